"""Redis key names shared by the bot and the workers (one place, so both sides agree)."""

from __future__ import annotations

PREFIX = "atelier"


def cancel_key(job_id: str) -> str:
    """Set when someone asks to cancel the job; the worker checks it cooperatively."""
    return f"{PREFIX}:job:{job_id}:cancel"


def lock_key(job_id: str) -> str:
    """Held (with a heartbeat) while a worker runs the job: no second run starts meanwhile."""
    return f"{PREFIX}:job:{job_id}:lock"


def result_key(job_id: str) -> str:
    """The finished JobResult: a redelivered or re-enqueued job republishes it instead of rerunning."""
    return f"{PREFIX}:job:{job_id}:result"


def enqueued_key(job_id: str) -> str:
    """Set when the job's message is put on the broker; gone with the queue if Redis loses its data."""
    return f"{PREFIX}:job:{job_id}:enqueued"


def attempts_key(job_id: str) -> str:
    """How many times a worker has started the job."""
    return f"{PREFIX}:job:{job_id}:attempts"
