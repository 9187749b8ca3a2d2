"""Runs one job inside a Celery task: idempotent by job id, cancellable, never silent.

A job's life on the worker: skip if cancelled; republish if already finished (a redelivery);
hold a heartbeat lock while running; store files; publish exactly one result and remember it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from celery.exceptions import SoftTimeLimitExceeded

from config.settings import Settings
from wire import keys
from wire.artifacts import ArtifactNotFound, ArtifactStore, ArtifactUnavailable, make_store
from wire.contract import (
    ContractError,
    ErrorCode,
    JobResult,
    Outcome,
    Progress,
    ProgressEvent,
    ResultEvent,
    parse_job,
    utcnow,
)
from wire.events import EventPublisher
from wire.log import job_context
from workers import metrics
from workers.jobstate import LOCK_TTL_S, Heartbeats, JobState, Start

log = logging.getLogger(__name__)

__all__ = [
    "LOCK_TTL_S",
    "JobBusy",
    "Services",
    "WorkerContext",
    "failure_for",
    "run_job",
    "stored_result",
]

PROGRESS_INTERVAL_S = 0.5
MAX_REASON_CHARS = 1000
_JOB_ID = re.compile(r"[0-9a-f]{32}")
CANCEL_POLL_S = 0.2


class JobBusy(Exception):
    """Another worker holds the job's lock: try again later instead of running it twice."""


@dataclass
class Services:
    """What a worker process talks to, made once per process."""

    settings: Settings
    redis: redis.Redis
    store: ArtifactStore
    events: EventPublisher
    state: JobState
    heartbeats: Heartbeats

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        client = redis.Redis.from_url(settings.redis_url)
        events = settings.events
        return cls(
            settings=settings,
            redis=client,
            store=make_store(settings),
            events=EventPublisher(client, events.stream, events.maxlen),
            state=JobState(client, events.stream, events.maxlen, settings.artifacts.redis_ttl_s),
            heartbeats=Heartbeats(client),
        )


@dataclass
class WorkerContext:
    """The GenerationContext a backend gets: throttled progress, cooperative cancel, inputs."""

    job_id: str
    svc: Services
    _last_progress: float = 0.0
    _last_cancel_check: float = 0.0
    _cancelled: bool = False
    published: list[Progress] = field(default_factory=list)

    def progress(
        self,
        fraction: float,
        message: str = "",
        *,
        step: int | None = None,
        total: int | None = None,
        preview_text: str | None = None,
    ) -> None:
        now = time.monotonic()
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction < 1.0 and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        item = Progress(
            job_id=self.job_id,
            fraction=fraction,
            message=message,
            step=step,
            total=total,
            preview_text=preview_text,
        )
        self.svc.events.publish(ProgressEvent(progress=item))

    def is_cancelled(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= CANCEL_POLL_S:
            self._last_cancel_check = now
            self._cancelled = bool(self.svc.redis.exists(keys.cancel_key(self.job_id)))
        return self._cancelled

    def check_cancelled(self) -> None:
        from models.base import JobCancelled

        if self.is_cancelled():
            raise JobCancelled(self.job_id)

    def load_input(self, key: str) -> bytes:
        from models.base import GenerationError

        try:
            return self.svc.store.get(key)
        except ArtifactNotFound:
            raise GenerationError(
                ErrorCode.INVALID_INPUT, "The uploaded file has expired or was never stored; upload it again."
            ) from None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _finish(svc: Services, result: JobResult, owner: str | None = None) -> JobResult:
    """Remember the result (first writer wins) and publish it; a late duplicate republishes the first."""
    return svc.state.finish(result, owner)


def _failure(job_id: str, code: ErrorCode, message: str, started: datetime | None) -> JobResult:
    status = Outcome.CANCELLED if code is ErrorCode.CANCELLED else Outcome.FAILED
    return JobResult(
        job_id=job_id, status=status, error=message, error_code=code, worker=worker_name(), started_at=started
    )


def _answerable_id(payload: Any) -> str | None:
    """The id to answer a rejected payload to: only a job id the bot could have made (32 lowercase hex),
    never a look-alike (odd characters could not even be written to the event stream)."""
    job_id = payload.get("id") if isinstance(payload, dict) else None
    return job_id if isinstance(job_id, str) and _JOB_ID.fullmatch(job_id) else None


def _readable(reason: str) -> str:
    """A rejection reason that can be logged and published: odd characters escaped, at most 1000."""
    text = reason.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def run_job(payload: Any, modality: str, svc: Services) -> JobResult | None:
    """Run one job payload; returns the published result (None for an unusable payload)."""
    try:
        job = parse_job(payload)
    except ContractError as error:
        job_id = _answerable_id(payload)
        reason = _readable(str(error))
        log.error("rejected job payload: %s", reason)
        if job_id is not None:
            rejected = _finish(svc, _failure(job_id, ErrorCode.INVALID_INPUT, reason, None))
            metrics.job_finished(modality, rejected)
            return rejected
        return None

    with job_context(job.id):
        if job.modality != modality:
            message = f"a {job.modality} job arrived on the {modality} queue"
            misrouted = _finish(svc, _failure(job.id, ErrorCode.INVALID_INPUT, message, None))
            metrics.job_finished(modality, misrouted)
            return misrouted
        owner = worker_name()
        started = utcnow()
        begun = svc.state.begin(job.id, owner, started_at=started)  # publishes the started event
        if begun.state is Start.DONE and begun.stored is not None:
            log.info("job already finished; republishing its result")
            svc.events.publish(ResultEvent(result=begun.stored))
            metrics.job_republished(modality)
            return begun.stored
        if begun.state is Start.CANCELLED:
            cancelled = _finish(
                svc, _failure(job.id, ErrorCode.CANCELLED, "Cancelled before it started.", None)
            )
            metrics.job_finished(modality, cancelled)
            return cancelled
        if begun.state is Start.BUSY:
            raise JobBusy(job.id)
        svc.heartbeats.hold(job.id, owner)
        metrics.job_started(modality, job.created_at)
        result: JobResult | None = None
        try:
            with metrics.running(modality):
                result = _run_locked(job, svc, owner, begun.attempt, started)  # its finish releases the lock
            return result
        finally:
            svc.heartbeats.drop(job.id)
            if result is None:  # an error escaped before the result was stored
                svc.state.release(job.id, owner)


def stored_result(
    svc: Services, job_id: str, output: Any, owner: str, started: datetime, seconds: float, **metadata: Any
) -> JobResult:
    """Store a finished job's files and build its succeeded result (raises what storing raises)."""
    refs = tuple(svc.store.put(job_id, f.filename, f.content_type, f.kind, f.data) for f in output.files)
    merged = {**output.metadata, **metadata}
    merged.setdefault("seconds", seconds)
    return JobResult(
        job_id=job_id,
        status=Outcome.SUCCEEDED,
        artifacts=refs,
        metadata=merged,
        text=output.text,
        worker=owner,
        started_at=started,
    )


def failure_for(job_id: str, error: BaseException, started: datetime | None) -> JobResult:
    """The result of a job that a cancel, a generation error or a crash ended (crashes: log them first)."""
    from models.base import GenerationError, JobCancelled

    if isinstance(error, JobCancelled):
        log.info("job cancelled")
        return _failure(job_id, ErrorCode.CANCELLED, "Cancelled while running.", started)
    if isinstance(error, GenerationError):
        log.info("job failed: %s (%s)", error.message, error.code)
        return _failure(job_id, error.code, error.message, started)
    if isinstance(error, ArtifactUnavailable):  # the operator's to fix: the reason is logged, not shown
        log.error("job failed: the artifact store is unusable: %s", error)
        return _failure(job_id, ErrorCode.INTERNAL, "The result's files could not be stored.", started)
    return _failure(job_id, ErrorCode.INTERNAL, "Something went wrong on the worker.", started)


def _run_locked(job: Any, svc: Services, owner: str, attempt: int, started: datetime) -> JobResult:
    from models.base import GenerationError, JobCancelled
    from models.registry import get_backend

    log.info("job started (attempt %d)", attempt)
    ctx = WorkerContext(job_id=job.id, svc=svc, _last_cancel_check=time.monotonic())  # begin just checked
    began = time.perf_counter()
    try:
        backend = get_backend(job.modality, job.preset, svc.settings)
        ctx.check_cancelled()
        output = backend.generate(job, ctx)
        result = stored_result(svc, job.id, output, owner, started, round(time.perf_counter() - began, 3))
        log.info("job succeeded in %.2f s with %d files", time.perf_counter() - began, len(result.artifacts))
    except (JobCancelled, GenerationError, ArtifactUnavailable) as error:
        result = failure_for(job.id, error, started)
    except SoftTimeLimitExceeded:
        limit = svc.settings.queue_limits(job.modality).soft_time_limit
        result = _failure(job.id, ErrorCode.TIMEOUT, f"It took longer than the {limit} s limit.", started)
        log.warning("job hit its soft time limit")
    except Exception as error:
        log.exception("job crashed")
        result = failure_for(job.id, error, started)
    finished = _finish(svc, result, owner)
    metrics.job_finished(job.modality, finished, time.perf_counter() - began)
    return finished
