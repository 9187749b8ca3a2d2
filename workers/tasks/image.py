"""The image generation task."""

from __future__ import annotations

from typing import Any

from celery import Task

from config.settings import get_settings
from workers.app import app
from workers.batching import run_batch_task
from workers.routing import task_for
from workers.tasks.common import run_task

_limits = get_settings().queue_limits("image")


@app.task(
    name=task_for("image"),
    bind=True,
    soft_time_limit=_limits.soft_time_limit,
    time_limit=_limits.time_limit,
)
def generate_image(self: Task, payload: dict[str, Any]) -> None:
    """Run one image job — with compatible queued jobs when `image_batch.max_size` > 1 (see
    workers/batching.py); progress and each job's result travel on the event stream."""
    batch = get_settings().image_batch
    if batch.max_size > 1:
        run_batch_task(self, payload, batch)
    else:
        run_task(self, payload, "image")
