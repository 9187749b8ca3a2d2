"""Queue-level batching for image workers: the job a task received, plus compatible queued jobs, in one
pipeline call — with every per-job guarantee of `workers.runner.run_job` kept.

How a batch forms (only when `image_batch.max_size` > 1; at 1 the task calls `run_job` as before):

1. The task receives one message as always (prefetch 1, late ack). `JobState.begin` checks that job and
   takes its lock in one step; anything but "run" (already finished → republish, cancelled → cancelled
   result, locked elsewhere → `JobBusy` → retry) is answered by `run_job`, as for any job.
2. The task *peeks* at the head of the image queue (LRANGE on kombu's Redis lists, nothing is removed)
   for text-to-image jobs with the same preset, size, steps and guidance. Each one that `begin` lets run
   (no result, no cancel request, lock free) joins the batch, its lock kept alive by the process's
   heartbeat thread. It keeps looking for
   up to `max_wait_ms` until the batch holds `max_size` jobs.
3. Every member gets its own started event (and attempt count), its own `WorkerContext` (throttled
   progress, its own cancel key) and then `DiffusersImageBackend.run_batch` runs them: one pipeline call
   per group of equal size/steps/guidance; a cancelled member comes back cancelled without stopping the
   others (the step callback only interrupts the call when every member is cancelled); a member whose
   input cannot be used (say an undecodable image-to-image attachment) comes back with its own error.
   Should the batched call itself crash, each member is run again on its own, so one bad job never
   fails the others.
4. Each member's files are stored and its result is published and remembered (first writer wins), then
   a gathered member's message is removed from the queue (LREM of its exact bytes). If another worker
   took that message meanwhile, it finds the stored result and republishes it: idempotency by job id.

Why messages are peeked, not taken: a gathered message stays in the broker until its job's result is
stored. A worker killed mid-batch (crash, OOM, hard time limit) therefore loses nothing: the received
message is requeued by Celery (late ack, `task_reject_on_worker_lost`), the gathered ones never left
the queue, and every job's lock expires within `LOCK_TTL_S`, after which each runs again. Taking them
with a second consumer in the pool child would park them in kombu's unacked set, to be restored only
after the visibility timeout (an hour).

Why not `celery-batches`: its 0.11 requires celery < 5.7 (we run 5.7); it hands the batch to the pool
without the task's time limits; it acks late messages from the pool's success callback only, so a
killed child leaves its messages unacked until the worker restarts (no `reject_on_worker_lost`); and it
needs an unbounded prefetch, so one worker hoards queued jobs that an idle GPU worker could run.

Time limits: the task's soft and hard limits cover the whole batch. At the soft limit the received job
gets its TIMEOUT result; gathered jobs that have no result yet are released (their messages are still
queued) and run again on their own, with their own full limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from config.settings import BatchSettings, Settings
from wire.contract import (
    ContractError,
    ErrorCode,
    ImageJob,
    JobResult,
    StartedEvent,
    parse_job,
    utcnow,
)
from wire.log import job_context
from wire.routing import queue_for, task_for
from workers import metrics
from workers.jobstate import Start
from workers.runner import (
    LOCK_TTL_S,
    JobBusy,
    Services,
    WorkerContext,
    _failure,
    _finish,
    failure_for,
    run_job,
    stored_result,
    worker_name,
)

log = logging.getLogger(__name__)

SCAN_WINDOW = 100  # queued messages looked at per peek, from the head of the queue
POLL_S = 0.01  # pause between peeks while waiting for more jobs
# kombu's Redis transport keeps one list per priority step, named queue + sep + step (step 0: the bare name)
PRIORITY_STEPS = (0, 3, 6, 9)
PRIORITY_SEP = "\x06\x16"

BatchKey = tuple[str, int, int, int, float]


def batch_key(job: ImageJob, settings: Settings) -> BatchKey | None:
    """Jobs with equal keys can share a pipeline call: (preset, width, height, steps, guidance) with the
    preset's defaults filled in. None when the preset is unknown (the job fails on its own)."""
    name = job.preset or settings.default_image_preset
    preset = settings.image_presets.get(name)
    if preset is None:
        return None
    options = job.options
    steps = options.steps if options.steps is not None else preset.default_steps
    guidance = options.guidance if options.guidance is not None else preset.guidance
    return (name, options.width, options.height, steps, float(guidance))


def queue_lists(queue: str) -> list[str]:
    """The Redis lists that hold a queue's messages, highest priority first."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


def message_payload(raw: bytes, task_name: str) -> dict[str, Any] | None:
    """The job payload of a queued Celery message of `task_name`, or None for anything else (another
    task, a message with an ETA or expiry such as a retry, a body that is not protocol-2 JSON)."""
    try:
        envelope = json.loads(raw)
        headers = envelope.get("headers") or {}
        if headers.get("task") != task_name or headers.get("eta") or headers.get("expires"):
            return None
        if envelope.get("content-type") != "application/json":
            return None
        body = envelope["body"]
        if (envelope.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        payload = args[0]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class QueuedJob:
    """A job message seen in the queue and left there."""

    job: ImageJob
    list_key: str
    raw: bytes


def peek(client: Any, queue: str, task_name: str, window: int = SCAN_WINDOW) -> list[QueuedJob]:
    """The image jobs among the next `window` messages of the queue, in the order they would be taken."""
    found: list[QueuedJob] = []
    for list_key in queue_lists(queue):
        if window <= 0:
            break
        raws = client.lrange(list_key, -window, -1)  # kombu pushes left and pops right: the head is last
        window -= len(raws)
        for raw in reversed(raws):
            payload = message_payload(raw, task_name)
            if payload is None:
                continue
            try:
                job = parse_job(payload)
            except ContractError:
                continue
            if isinstance(job, ImageJob):
                found.append(QueuedJob(job=job, list_key=list_key, raw=raw))
    return found


@dataclass(frozen=True)
class Member:
    """A job of the batch, its lock held (taken by `JobState.begin`, kept alive by the process's
    heartbeat thread); `queued` is its message when it was gathered."""

    job: ImageJob
    attempt: int
    queued: QueuedJob | None = None


def _claim(svc: Services, item: QueuedJob, owner: str) -> Member | None:
    """Take a gathered job unless it is finished, cancelled or running elsewhere (its own delivery
    then republishes the result, records the cancel or waits for the lock, as for any job)."""
    begun = svc.state.begin(item.job.id, owner)
    if begun.state is not Start.RUN:
        return None
    svc.heartbeats.hold(item.job.id, owner)
    return Member(job=item.job, attempt=begun.attempt, queued=item)


def gather(
    svc: Services, members: list[Member], key: BatchKey, config: BatchSettings, owner: str
) -> list[Member]:
    """Add queued text-to-image jobs with the key of the batch's first member, locked for this batch,
    until it holds max_size jobs or max_wait_ms have passed. Members are added to `members` as they are
    locked, so a caller's cleanup releases them even if gathering is interrupted."""
    deadline = time.monotonic() + config.max_wait_ms / 1000
    seen_jobs = {m.job.id for m in members}
    seen_raw: set[bytes] = set()
    queue, task_name = queue_for("image"), task_for("image")
    while True:
        for item in peek(svc.redis, queue, task_name):
            if len(members) >= config.max_size:
                break
            if item.raw in seen_raw or item.job.id in seen_jobs:
                continue
            seen_raw.add(item.raw)
            if item.job.options.init_artifact is not None or batch_key(item.job, svc.settings) != key:
                continue
            member = _claim(svc, item, owner)
            if member is not None:
                seen_jobs.add(item.job.id)
                members.append(member)
        remaining = deadline - time.monotonic()
        if len(members) >= config.max_size or remaining <= 0:
            return members
        time.sleep(min(POLL_S, remaining))


def run_image_batch(payload: Any, config: BatchSettings, svc: Services) -> list[JobResult | None]:
    """Run the received job, with compatible queued jobs when batching is on; returns every member's
    published result (None where a gathered job was released to run on its own)."""
    if config.max_size <= 1:
        return [run_job(payload, "image", svc)]
    try:
        job = parse_job(payload)
    except ContractError:
        return [run_job(payload, "image", svc)]
    key = batch_key(job, svc.settings) if isinstance(job, ImageJob) else None
    if not isinstance(job, ImageJob) or key is None:
        return [run_job(payload, "image", svc)]  # the usual answer: rejected, or failed on its own
    owner = worker_name()
    begun = svc.state.begin(job.id, owner)
    if begun.state is not Start.RUN:
        return [run_job(payload, "image", svc)]  # republish, cancelled result, or JobBusy → retry
    svc.heartbeats.hold(job.id, owner)
    members = [Member(job=job, attempt=begun.attempt)]
    finished: set[str] = set()
    try:
        gather(svc, members, key, config, owner)
        with metrics.running("image", len(members)):
            return _run_members(members, svc, owner, finished)
    finally:
        for member in members:
            svc.heartbeats.drop(member.job.id)
            if member.job.id not in finished:  # no result stored (an error escaped, or released)
                svc.state.release(member.job.id, owner)


def _run_members(
    members: list[Member], svc: Services, owner: str, finished: set[str]
) -> list[JobResult | None]:
    from models.base import GenerationError, GenerationOutput, JobCancelled
    from models.registry import get_backend

    size = len(members)
    lead_id = members[0].job.id
    if size > 1:
        with job_context(lead_id):
            log.info("running %d image jobs as one batch: %s", size, [m.job.id for m in members])
    started = utcnow()
    contexts: list[WorkerContext] = []
    for member in members:
        job_id = member.job.id
        svc.events.publish(StartedEvent(job_id=job_id, worker=owner, attempt=member.attempt, at=started))
        contexts.append(WorkerContext(job_id=job_id, svc=svc))
    results: list[JobResult | None] = [None] * size
    for member in members:
        metrics.job_started("image", member.job.created_at)
    began = time.perf_counter()
    try:
        outcomes: list[Any]
        try:
            backend = get_backend("image", members[0].job.preset, svc.settings)
        except GenerationError as error:
            outcomes = [error] * size
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # a crash while loading: every member gets INTERNAL, as run_job does
            log.exception("loading the image backend failed")
            outcomes = [error] * size
        else:
            outcomes = [None] * size
            live = []
            for i, ctx in enumerate(contexts):
                if ctx.is_cancelled():
                    outcomes[i] = JobCancelled(ctx.job_id)
                else:
                    live.append(i)
            ran = _generate(backend, [members[i].job for i in live], [contexts[i] for i in live])
            for i, outcome in zip(live, ran, strict=True):
                outcomes[i] = outcome
        seconds = round(time.perf_counter() - began, 3)
        for i, (member, outcome) in enumerate(zip(members, outcomes, strict=True)):
            with job_context(member.job.id):
                if isinstance(outcome, GenerationOutput):
                    result = _succeeded(svc, member, outcome, owner, started, seconds, size, lead_id)
                else:
                    result = failure_for(member.job.id, outcome, started)
                results[i] = done = _finish(svc, result, owner)  # stores, publishes, releases the lock
                finished.add(member.job.id)
                metrics.job_finished("image", done, time.perf_counter() - began)
                if member.queued is not None:  # its result is stored: the message has nothing left to do
                    queued = member.queued  # redis-py sends bytes as they are; its stubs only say str
                    svc.redis.lrem(queued.list_key, 1, queued.raw)  # type: ignore[arg-type]
    except SoftTimeLimitExceeded:
        limit = svc.settings.queue_limits("image").soft_time_limit
        with job_context(lead_id):
            log.warning("batch of %d hit the soft time limit; gathered jobs go back to the queue", size)
            if results[0] is None:
                message = f"It took longer than the {limit} s limit."
                timed_out = _finish(svc, _failure(lead_id, ErrorCode.TIMEOUT, message, started), owner)
                results[0] = timed_out
                finished.add(lead_id)
                metrics.job_finished("image", timed_out, time.perf_counter() - began)
    return results


def _succeeded(
    svc: Services,
    member: Member,
    output: Any,
    owner: str,
    started: Any,
    seconds: float,
    size: int,
    lead_id: str,
) -> JobResult:
    from models.base import GenerationError

    job = member.job
    try:
        result = stored_result(
            svc, job.id, output, owner, started, seconds, worker_batch={"size": size, "received": lead_id}
        )
    except Exception as error:  # GenerationError keeps its code; anything else is INTERNAL
        if not isinstance(error, GenerationError):
            log.exception("storing the job's files failed")
        return failure_for(job.id, error, started)
    log.info(
        "job succeeded in %.2f s with %d files (worker batch of %d)", seconds, len(result.artifacts), size
    )
    return result


def _generate(backend: Any, jobs: Sequence[ImageJob], contexts: Sequence[WorkerContext]) -> list[Any]:
    """Per job, its output or the error that ended it. One `run_batch` call; if that call itself
    crashes with several jobs in it, each job runs again alone so that only a bad one fails."""
    if not jobs:
        return []
    run_batch = getattr(backend, "run_batch", None)
    if run_batch is not None:
        try:
            return list(run_batch(jobs, contexts))
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            if len(jobs) == 1:
                log.exception("job crashed")
                return [error]
            log.exception("a batch of %d crashed; running its jobs one at a time", len(jobs))
    return [_generate_one(backend, job, ctx) for job, ctx in zip(jobs, contexts, strict=True)]


def _generate_one(backend: Any, job: ImageJob, ctx: WorkerContext) -> Any:
    from models.base import GenerationError, JobCancelled

    try:
        return backend.generate(job, ctx)
    except (GenerationError, JobCancelled) as error:
        return error
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        with job_context(job.id):
            log.exception("job crashed")
        return error


def run_batch_task(task: Task, payload: dict[str, Any], svc: Services) -> None:
    """What the image task does: like `run_task`, a job locked elsewhere comes back later."""
    try:
        run_image_batch(payload, svc.settings.image_batch, svc)
    except JobBusy:
        raise task.retry(countdown=LOCK_TTL_S, max_retries=None) from None
