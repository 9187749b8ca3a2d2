"""Jobs in the database: the repository (the only way the bot reads and writes them) and its records."""

from bot.db.jobs.record import (
    DELIVERY_LEASE_S,
    CancelOutcome,
    JobAlreadyExistsError,
    JobNotFoundError,
    JobRecord,
    LimitReached,
    MemberQuota,
)
from bot.db.jobs.repository import JobRepository
from bot.db.jobs.statements import Op

__all__ = [
    "DELIVERY_LEASE_S",
    "CancelOutcome",
    "JobAlreadyExistsError",
    "JobNotFoundError",
    "JobRecord",
    "JobRepository",
    "LimitReached",
    "MemberQuota",
    "Op",
]
