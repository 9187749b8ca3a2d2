"""Puts job messages on the broker from one thread (Celery's send blocks), marking them enqueued.

The thread takes every job waiting to be sent at once: it sends each message, then marks all the
sent jobs enqueued in one Redis round trip. A mark is written only after its message is on the
broker, so a mark always means "the message was sent"; it dies with the queue if Redis loses its
data, which is how the reconciler knows to send the job again.
"""

from __future__ import annotations

from typing import Any

import redis
from celery import Celery

from bot.batch_thread import BatchThread, Outcome
from wire import keys
from wire.contract import AnyJob
from wire.routing import queue_for, task_for


class BrokerSender:
    """Sends jobs' messages (task id = job id) and marks them enqueued."""

    def __init__(self, celery_app: Celery, marker_client: redis.Redis, ttl_s: int) -> None:
        self.celery = celery_app
        self.marker_client = marker_client
        self.ttl_s = ttl_s
        self._declared: set[str] = set()  # queues this sender has declared on the broker
        self._thread: BatchThread[AnyJob] = BatchThread("atelier-send", self._send_batch)

    async def send(self, job: AnyJob) -> None:
        """Send the job's message and mark it enqueued; raises what the broker raised."""
        await self._thread.submit(job)

    def _send_batch(self, jobs: list[AnyJob]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            with self.celery.producer_or_acquire() as producer:  # one producer for the whole batch
                for job in jobs:
                    outcomes.append(self._send_one(job, producer))
        except Exception as error:  # no producer at all (the broker is unreachable)
            outcomes += [(False, error)] * (len(jobs) - len(outcomes))
        sent = [job.id for job, (ok, _) in zip(jobs, outcomes, strict=True) if ok]
        if sent:
            try:
                pipe: Any = self.marker_client.pipeline(transaction=False)
                for job_id in sent:
                    pipe.set(keys.enqueued_key(job_id), "1", ex=self.ttl_s)
                pipe.execute()
            except redis.RedisError as error:  # sent but unmarked: report it, the reconciler resends
                outcomes = [(False, error) if ok else (ok, value) for ok, value in outcomes]
        return outcomes

    def _send_one(self, job: AnyJob, producer: Any) -> Outcome:
        queue = queue_for(job.modality)
        try:
            self.celery.send_task(
                task_for(job.modality),
                args=[job.model_dump(mode="json")],
                task_id=job.id,
                queue=queue,
                producer=producer,
                # What Celery's logs and monitors show for the arguments: the job, not the member's
                # prompt (and Celery's own repr of the payload was a third of the cost of a send).
                argsrepr=f"({job.modality} job {job.id})",
                kwargsrepr="{}",
                # Declare each queue once per process, not on every send (Celery would, and kombu's
                # check that it already has costs a copy of the queue per message).
                declare=[] if queue in self._declared else None,
            )
        except Exception as error:  # the broker's errors vary by transport
            return (False, error)
        self._declared.add(queue)
        return (True, None)

    async def close(self) -> None:
        """Send what is queued, then stop."""
        await self._thread.close()
