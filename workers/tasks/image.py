"""The image generation task."""

from __future__ import annotations

from typing import Any

from celery import Task

from workers.batching import run_batch_task
from workers.tasks.common import run_task, task_services


def generate(task: Task, payload: dict[str, Any]) -> None:
    """Run one image job — with compatible queued jobs when `image_batch.max_size` > 1 (see
    workers/batching.py); progress and each job's result travel on the event stream."""
    svc = task_services(task)
    if svc.settings.image_batch.max_size > 1:
        run_batch_task(task, payload, svc)
    else:
        run_task(task, payload, "image")
