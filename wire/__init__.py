"""The wire: what the bot and the workers share, and nothing else of Atelier's.

The job contract (`contract`), the event stream (`events`), Redis key names (`keys`), the routing
table (`routing`), artifact stores (`artifacts`), the Celery broker configuration both sides use
(`broker`, `transport`) and structured logs (`log`). Modules here import only each other and
third-party libraries, so a worker host needs none of the bot's code and the bot none of the models'.
"""
