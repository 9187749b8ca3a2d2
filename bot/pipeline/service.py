"""Submitting and cancelling jobs, and recording what the workers report.

Only the bot side writes the database. A job is stored (queued) before its message is sent, the
send runs in a thread (it blocks), and every worker event is applied idempotently.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from celery import Celery

from bot.db.repository import CancelOutcome, JobRecord, JobRepository
from workers import keys
from workers.contract import ImageJob, MusicJob, ProgressEvent, ResultEvent, StartedEvent, TextJob
from workers.events import AnyEvent
from workers.routing import queue_for, task_for

log = logging.getLogger(__name__)

AnyJob = MusicJob | ImageJob | TextJob


@dataclass(frozen=True)
class Receipt:
    """What the member is told right after submitting."""

    job_id: str
    queue_position: int
    enqueued: bool


class JobService:
    """Submit, cancel and track jobs."""

    def __init__(self, repo: JobRepository, celery_app: Celery, redis_client: aioredis.Redis, ttl_s: int):
        self.repo = repo
        self.celery = celery_app
        self.redis = redis_client
        self.ttl_s = ttl_s

    async def submit(self, job: AnyJob, delivery_target: dict[str, Any] | None = None) -> Receipt:
        """Store the job, then queue it; if the broker is down it stays queued for the reconciler."""
        await self.repo.create(job, delivery_target)
        enqueued = await self.enqueue(job)
        position = await self.repo.queue_position(job.id)
        return Receipt(job_id=job.id, queue_position=position, enqueued=enqueued)

    async def enqueue(self, job: AnyJob) -> bool:
        """Send the job's message (task id = job id); False if the broker could not be reached."""
        payload = job.model_dump(mode="json")
        try:
            await asyncio.to_thread(
                self.celery.send_task,
                task_for(job.modality),
                args=[payload],
                task_id=job.id,
                queue=queue_for(job.modality),
            )
            await self.redis.set(keys.enqueued_key(job.id), "1", ex=self.ttl_s)
        except Exception as error:  # the broker's errors vary by transport
            log.warning("could not enqueue job %s: %s; the reconciler will retry", job.id, error)
            return False
        return True

    async def cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a queued job at once, or ask the worker to stop a running one."""
        outcome = await self.repo.request_cancel(job_id)
        if outcome in (CancelOutcome.CANCELLED, CancelOutcome.REQUESTED):
            await self.redis.set(keys.cancel_key(job_id), "1", ex=self.ttl_s)
        return outcome

    async def apply_event(self, event: AnyEvent) -> JobRecord | None:
        """Record a worker event; returns the job when a result was newly recorded (deliver it)."""
        if isinstance(event, StartedEvent):
            await self.repo.mark_running(event.job_id, event.worker, event.at, event.attempt)
        elif isinstance(event, ProgressEvent):
            item = event.progress
            await self.repo.record_progress(item.job_id, item.fraction, item.message)
        elif isinstance(event, ResultEvent) and await self.repo.record_result(event.result):
            return await self.repo.get(event.result.job_id)
        return None
