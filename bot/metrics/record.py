"""What the pipeline, delivery and features call when something happens (one line at each place)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db.jobs import JobRecord
from bot.metrics import families
from wire.contract import AnyJob, utcnow


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """`end - start` in seconds (naive times are UTC, as SQLite hands them back); None if either is
    missing; never negative (clocks of different hosts may disagree a little)."""
    if start is None or end is None:
        return None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return max((end - start).total_seconds(), 0.0)


def submitted(job: AnyJob) -> None:
    families.JOBS_SUBMITTED.labels(job.modality).inc()


def refused(reason: str) -> None:
    """A request answered with a refusal (its message key: `policy.blocked`, `limit.daily`…)."""
    families.REFUSALS.labels(reason).inc()


def result_recorded(record: JobRecord) -> None:
    """A result newly recorded: its outcome, its failure code, and how long it queued and ran."""
    result = record.result
    if result is None:
        return
    families.JOBS_FINISHED.labels(record.modality, result.status.value).inc()
    if result.error_code is not None:
        families.JOB_FAILURES.labels(record.modality, result.error_code.value).inc()
    started = result.started_at or record.started_at
    queued = seconds_between(record.created_at, started)
    if queued is not None:
        families.JOB_PHASE_SECONDS.labels(record.modality, "queued").observe(queued)
    running = seconds_between(started, result.finished_at)
    if running is not None:
        families.JOB_PHASE_SECONDS.labels(record.modality, "running").observe(running)


def cancelled_before_start(record: JobRecord) -> None:
    """A job cancelled while it waited or queued (no worker reports it)."""
    families.JOBS_FINISHED.labels(record.modality, "cancelled").inc()
    families.JOB_FAILURES.labels(record.modality, "cancelled").inc()


def delivery(record: JobRecord, outcome: str) -> None:
    """One delivery attempt's outcome; a result that reached Discord also times its delivering phase."""
    families.DELIVERIES.labels(record.modality, outcome).inc()
    if outcome in ("delivered", "withheld"):
        delivering = seconds_between(record.finished_at, utcnow())
        if delivering is not None:
            families.JOB_PHASE_SECONDS.labels(record.modality, "delivering").observe(delivering)


def safety_block(stage: str, rule: str | None) -> None:
    """A prompt refused (`prompt`) or a result withheld (`output`) by the safety rules."""
    families.SAFETY_BLOCKS.labels(stage, rule or "unknown").inc()


def vote(outcome: str, reason: str = "") -> None:
    families.VOTES.labels(outcome, reason).inc()
