"""Finds jobs stuck in a non-terminal state and recovers them: re-enqueue by job id, or fail with a reason.

Cases: the broker lost its queue (Redis restarted without persistence: the `enqueued` marker is gone with
it), a whole worker host vanished (no heartbeat lock, no progress for a while), or a worker finished but
its result event never reached the database (the stored result is re-applied).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.db.jobs import JobRecord, JobRepository
from bot.db.status import JobStatus
from bot.pipeline.service import JobService
from config.settings import Settings
from wire import keys
from wire.contract import ErrorCode, JobResult, ResultEvent, utcnow

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """What one pass did."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    recovered_results: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    released: int = 0
    """Waiting jobs sent to the broker because their queue had room."""


class Reconciler:
    """One pass every `interval_s`, run by the scheduler process."""

    def __init__(self, service: JobService, jobs: JobRepository, settings: Settings) -> None:
        self.service = service
        self.jobs = jobs
        self.settings = settings

    async def run_once(self) -> ReconcileReport:
        config = self.settings.reconciler
        now = utcnow()
        stuck = await self.jobs.find_stuck(
            queued_before=now - timedelta(seconds=config.queued_grace_s),
            running_before=now - timedelta(seconds=config.running_grace_s),
        )
        report = ReconcileReport()
        for record in stuck:
            try:
                await self._recover(record, report)
            except Exception:
                log.exception("could not reconcile job %s", record.id)
        try:
            # Room freed outside the event stream (a job failed here, a cancel elsewhere) goes to
            # the jobs waiting for it; normally a result's own write releases the next job.
            report.released = await self.service.release()
        except Exception:
            log.exception("could not release waiting jobs")
        if stuck:
            log.info(
                "reconciled: requeued=%d failed=%d recovered=%d left=%d",
                len(report.requeued),
                len(report.failed),
                len(report.recovered_results),
                len(report.left_alone),
            )
        return report

    async def _recover(self, record: JobRecord, report: ReconcileReport) -> None:
        redis = self.service.redis
        stored = await redis.get(keys.result_key(record.id))
        if stored is not None:
            result = JobResult.model_validate_json(stored)
            await self.service.apply_event(ResultEvent(result=result))
            report.recovered_results.append(record.id)
            return
        if await redis.exists(keys.lock_key(record.id)):
            report.left_alone.append(record.id)  # a worker is on it right now
            return
        if record.status is JobStatus.QUEUED and await redis.exists(keys.enqueued_key(record.id)):
            report.left_alone.append(record.id)  # its message is still on the broker, waiting its turn
            return
        if record.status is JobStatus.RUNNING and not self._overdue(record):
            report.left_alone.append(record.id)
            return
        attempts = await self.jobs.bump_attempt(record.id)
        if attempts > self.settings.reconciler.max_attempts:
            reason = f"The job was lost {attempts - 1} times (a worker or the queue went away); giving up."
            await self.jobs.fail(record.id, ErrorCode.WORKER_LOST, reason)
            report.failed.append(record.id)
            return
        if await self.service.enqueue(record.job):
            report.requeued.append(record.id)

    def _overdue(self, record: JobRecord) -> bool:
        """Running with no heartbeat and no word for longer than the grace period."""
        last = record.updated_at or record.started_at or record.created_at
        grace = timedelta(seconds=self.settings.reconciler.running_grace_s)
        return utcnow() - last > grace

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the database or Redis is away for a moment: try again next pass
                log.exception(
                    "reconciler pass failed; retrying in %.0f s", self.settings.reconciler.interval_s
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.reconciler.interval_s)
