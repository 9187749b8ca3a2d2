"""What every generation task does around `run_job`."""

from __future__ import annotations

from typing import Any

from celery import Task

from workers.runner import LOCK_TTL_S, JobBusy, run_job


def run_task(task: Task, payload: dict[str, Any], modality: str) -> None:
    """Run the job; if another worker holds it, come back once its lock could have expired."""
    try:
        run_job(payload, modality)
    except JobBusy:
        raise task.retry(countdown=LOCK_TTL_S, max_retries=None) from None
