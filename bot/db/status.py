"""Where a job is in the bot's lifecycle (the database's `jobs.status`).

`wire.contract.Outcome` is how a worker says a job ended; the bot adds the states around it:
waiting in the database for queue capacity, queued on the broker, running, and delivered once
its result is in Discord. The values are stored as text; a new one needs a migration (the column
has a CHECK constraint).
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    WAITING = "waiting"
    """Stored and admitted, waiting in the database until its queue has room (`bot.pipeline.admission`)."""
    QUEUED = "queued"
    """Released to the broker: its message is on the queue (or being sent)."""
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    HELD = "held"
    """Finished, and kept back until a moderator decides (approval mode): not delivered yet."""


PENDING_STATUSES = frozenset({JobStatus.WAITING, JobStatus.QUEUED})
"""Not started yet: a member's place in line counts these."""
ACTIVE_STATUSES = frozenset({JobStatus.WAITING, JobStatus.QUEUED, JobStatus.RUNNING})
"""Not finished: it may still start, report progress, or be cancelled at once."""
IN_FLIGHT_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
"""On the broker or on a worker: what a queue's capacity counts."""
FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
TERMINAL_STATUSES = FINISHED_STATUSES | {JobStatus.DELIVERED}
