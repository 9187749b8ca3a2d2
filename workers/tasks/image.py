"""The image generation task."""

from __future__ import annotations

from typing import Any

from celery import Task

from config.settings import get_settings
from workers.app import app
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
    """Run one image job; progress and the result travel on the event stream."""
    run_task(self, payload, "image")
