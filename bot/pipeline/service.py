"""Submitting and cancelling jobs, and recording what the workers report.

Only the bot side writes the database. A job passes admission (bot/pipeline/admission.py), is
stored before its message is sent (waiting in the database while its queue is full), the send runs
in a thread (it blocks), and every worker event is applied idempotently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from celery import Celery
from sqlalchemy import Connection

from bot.db.jobs import CancelOutcome, JobRecord, JobRepository, LimitReached, MemberQuota, Op
from bot.metrics import record as metrics
from bot.pipeline.admission import Admission, Refused
from bot.pipeline.sender import BrokerSender
from wire import keys
from wire.contract import MODALITIES, AnyJob, ProgressEvent, ResultEvent, StartedEvent
from wire.events import AnyEvent, event_job_id

log = logging.getLogger(__name__)

SUBMITTED_KEPT = 4096


@dataclass(frozen=True)
class Receipt:
    """What the member is told right after submitting."""

    job_id: str
    queue_position: int
    enqueued: bool


class JobService:
    """Submit, cancel and track jobs."""

    def __init__(
        self,
        jobs: JobRepository,
        celery_app: Celery,
        redis_client: aioredis.Redis,
        ttl_s: int,
        marker_client: redis.Redis,
        admission: Admission,
    ) -> None:
        self.jobs = jobs
        self.admission = admission
        self.celery = celery_app
        self.redis = redis_client
        self.ttl_s = ttl_s
        self.sender = BrokerSender(celery_app, marker_client, ttl_s)
        # The jobs this process submitted and has not yet seen finish, newest last: recording a
        # result then needs no read-back and parse of the job (a fifth of that write's cost).
        self._submitted: OrderedDict[str, AnyJob] = OrderedDict()

    async def submit(
        self, job: AnyJob, delivery_target: dict[str, Any] | None = None, quota: MemberQuota | None = None
    ) -> Receipt:
        """Admit the job (raises `Refused`), store it, and send what its queue has room for.

        With a `quota`, the member's limits on the server are enforced as it is stored (a limit
        reached is a `Refused` naming it). A job that waits for room is released later, as others
        finish; one whose send failed (the broker is down) stays queued for the reconciler.
        """
        await self.admission.admit(job)
        capacity = self.admission.capacity(job.modality)
        try:
            weight = self.admission.weight(job.guild_id)
            admitted = await self.jobs.store_admitted(job, delivery_target, capacity, quota, weight)
        except LimitReached as limit:
            values: dict[str, Any] = {"limit": limit.limit}
            if limit.until is not None:
                values["until"] = int(limit.until.timestamp())
            raise Refused(f"limit.{limit.kind}", **values) from None
        metrics.submitted(job)
        self._submitted[job.id] = job
        if len(self._submitted) > SUBMITTED_KEPT:
            self._submitted.popitem(last=False)
        sent = await self._send(admitted.released)
        return Receipt(job_id=job.id, queue_position=admitted.position, enqueued=sent.get(job.id, True))

    async def release(self, modalities: Sequence[str] = MODALITIES) -> int:
        """Send the waiting jobs that now have room (after something finished outside the event
        stream: a cancel, a job the reconciler failed); how many were released."""
        ops = [self.jobs.release_op(m, self.admission.capacity(m)) for m in modalities]
        released = [job for batch in await self.jobs.run_all(ops) for job in batch]
        await self._send(released)
        return len(released)

    async def _send(self, jobs: Sequence[AnyJob]) -> dict[str, bool]:
        """Send released jobs (concurrently: the sender thread takes them as one batch)."""
        if not jobs:
            return {}
        outcomes = await asyncio.gather(*(self.enqueue(job) for job in jobs))
        return {job.id: ok for job, ok in zip(jobs, outcomes, strict=True)}

    async def enqueue(self, job: AnyJob) -> bool:
        """Send the job's message (task id = job id); False if the broker could not be reached."""
        try:
            await self.sender.send(job)
        except Exception as error:  # the broker's errors vary by transport
            log.warning("could not enqueue job %s: %s; the reconciler will retry", job.id, error)
            return False
        return True

    async def close(self) -> None:
        """Send what is queued, then stop the sender."""
        await self.sender.close()

    async def cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a waiting or queued job at once, or ask the worker to stop a running one."""
        outcome = await self.jobs.request_cancel(job_id)
        if outcome in (CancelOutcome.CANCELLED, CancelOutcome.REQUESTED):
            await self.redis.set(keys.cancel_key(job_id), "1", ex=self.ttl_s)
        if outcome is CancelOutcome.CANCELLED:
            await self.release()  # its place in its queue is free
        return outcome

    async def apply_event(self, event: AnyEvent) -> JobRecord | None:
        """Record a worker event; returns the job when a result was newly recorded (deliver it)."""
        return (await self.apply_events([event]))[0]

    async def apply_events(self, events: Sequence[AnyEvent]) -> list[JobRecord | None]:
        """Record a batch of events, in order, in one transaction (all or nothing); per event as apply_event.

        A progress event followed in the same batch by another event of its job is not written: the
        later one supersedes it. A started event followed by its job's result is folded into the
        result's write (the result carries the worker and start time; the attempt is passed on), so a
        job that starts and finishes within one batch costs one write. A batch without results commits
        without waiting for the disk (`relaxed_commit_op`): losing a start or progress update in a
        database crash costs nothing, since the job's result overwrites both, while a result is always
        flushed before it is acked.
        """
        if not events:
            return []
        last_index = {event_job_id(event): i for i, event in enumerate(events)}
        finishing = {
            event.result.job_id: i for i, event in enumerate(events) if isinstance(event, ResultEvent)
        }
        attempts: dict[str, int] = {}  # folded started events: job id → attempt
        ops: list[Op[Any]] = []
        if not finishing:
            ops.append(self.jobs.relaxed_commit_op)
        for i, event in enumerate(events):
            if isinstance(event, StartedEvent) and finishing.get(event.job_id, -1) > i:
                attempts[event.job_id] = max(event.attempt, attempts.get(event.job_id, 0))
                ops.append(_nothing)
            elif isinstance(event, StartedEvent):
                ops.append(self.jobs.mark_running_op(event.job_id, event.worker, event.at, event.attempt))
            elif isinstance(event, ProgressEvent) and last_index[event.progress.job_id] == i:
                item = event.progress
                ops.append(self.jobs.record_progress_op(item.job_id, item.fraction, item.message))
            elif isinstance(event, ResultEvent):
                job_id = event.result.job_id
                job = self._submitted.get(job_id)
                ops.append(self.jobs.record_result_op(event.result, attempts.get(job_id), job))
            else:
                ops.append(_nothing)
        capacity = self.admission.capacity

        def work(connection: Connection) -> tuple[list[Any], list[AnyJob]]:
            done = [op(connection) for op in ops]
            # A result frees its place in its queue: the next waiting jobs go in the same commit.
            freed = sorted({r.modality for r in done if isinstance(r, JobRecord)})
            return done, [job for m in freed for job in self.jobs.release_op(m, capacity(m))(connection)]

        done, released = await self.jobs.run(work)
        for job_id in finishing:
            self._submitted.pop(job_id, None)
        for recorded in done:
            if isinstance(recorded, JobRecord):
                metrics.result_recorded(recorded)
        await self._send(released)
        return [
            record if isinstance(record, JobRecord) else None for record in done[len(done) - len(events) :]
        ]


def _nothing(connection: object) -> None:
    """The unit of work for an event that needs no write (a superseded progress event)."""
    return None
