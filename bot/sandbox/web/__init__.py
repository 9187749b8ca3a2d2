"""The sandbox's web page: a small Discord client served by the local server (``GET /``).

``page.WebPage`` serves the page, its assets (``static/``, plain files: no build step) and the JSON
routes it acts through; ``live.LiveHub`` pushes what changes (server-sent events); ``view`` decides
what a member may see; ``acting`` adds the modal and select-menu interactions; ``demo.furnish``
gives the sandbox's guild its channels and members. Nothing here imports the bot: the job-queue
panel reads an optional *status source* the bot process hands in (see ``bot.cli.sandbox_status``).

This ``__init__`` imports nothing, so that ``bot.sandbox.facade`` can import ``page`` without a cycle.
"""
