"""Celery workers. `workers.contract` is the job contract shared with the bot (pydantic only)."""
