"""Prometheus metrics of a worker (docs/metrics.md): what the runner and the image batcher record.

The metric objects are made on first use, in the process that runs the jobs, so that a prefork
child made after `workers.metrics.serve.prepare` writes them where the parent's `/metrics` reads
them (prometheus_client's multiprocess mode); without a metrics port they stay in memory, unserved.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wire.contract import JobResult, utcnow

JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class Families:
    jobs: Any
    failures: Any
    run_seconds: Any
    wait_seconds: Any
    running: Any
    republished: Any


@functools.cache
def families() -> Families:
    """The worker's metrics, made once per process (after the multiprocess folder is chosen)."""
    from prometheus_client import Counter, Gauge, Histogram

    return Families(
        jobs=Counter(
            "atelier_worker_jobs",
            "Jobs this worker finished, by modality and outcome.",
            ["modality", "outcome"],
        ),
        failures=Counter(
            "atelier_worker_job_failures",
            "Jobs this worker failed or cancelled, by modality and error code.",
            ["modality", "error_code"],
        ),
        run_seconds=Histogram(
            "atelier_worker_job_run_seconds",
            "From a job's start on this worker to its stored result, by modality and outcome.",
            ["modality", "outcome"],
            buckets=JOB_BUCKETS,
        ),
        wait_seconds=Histogram(
            "atelier_worker_job_wait_seconds",
            "From a job's creation (by the bot) to its start on this worker, by modality.",
            ["modality"],
            buckets=JOB_BUCKETS,
        ),
        running=Gauge(
            "atelier_worker_jobs_running",
            "Jobs running on this worker now, by modality.",
            ["modality"],
            multiprocess_mode="livesum",
        ),
        republished=Counter(
            "atelier_worker_jobs_republished",
            "Redelivered jobs that had already finished: their stored result was published again.",
            ["modality"],
        ),
    )


def _seconds_since(moment: datetime) -> float:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max((utcnow() - moment).total_seconds(), 0.0)


def job_started(modality: str, created_at: datetime) -> None:
    """A job begins on this worker: how long it waited since the bot made it."""
    families().wait_seconds.labels(modality).observe(_seconds_since(created_at))


@contextlib.contextmanager
def running(modality: str, jobs: int = 1) -> Iterator[None]:
    """Counts `jobs` as running for the duration of the block."""
    gauge = families().running.labels(modality)
    gauge.inc(jobs)
    try:
        yield
    finally:
        gauge.dec(jobs)


def job_finished(modality: str, result: JobResult, seconds: float | None = None) -> None:
    """A result this worker produced (not a republished one)."""
    found = families()
    outcome = result.status.value
    found.jobs.labels(modality, outcome).inc()
    if result.error_code is not None:
        found.failures.labels(modality, result.error_code.value).inc()
    if seconds is not None:
        found.run_seconds.labels(modality, outcome).observe(seconds)


def job_republished(modality: str) -> None:
    families().republished.labels(modality).inc()
