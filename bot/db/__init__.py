"""The bot's database: engine and migrations, ORM tables, and the job repository."""

from bot.db.engine import create_engine, make_sessionmaker, upgrade_database, upgrade_database_sync
from bot.db.jobs import (
    CancelOutcome,
    JobAlreadyExistsError,
    JobNotFoundError,
    JobRecord,
    JobRepository,
)

__all__ = [
    "CancelOutcome",
    "JobAlreadyExistsError",
    "JobNotFoundError",
    "JobRecord",
    "JobRepository",
    "create_engine",
    "make_sessionmaker",
    "upgrade_database",
    "upgrade_database_sync",
]
