"""The music generation task."""

from __future__ import annotations

from typing import Any

from celery import Task

from config.settings import get_settings
from workers.app import app
from workers.routing import task_for
from workers.tasks.common import run_task

_limits = get_settings().queue_limits("music")


@app.task(
    name=task_for("music"),
    bind=True,
    soft_time_limit=_limits.soft_time_limit,
    time_limit=_limits.time_limit,
)
def generate_music(self: Task, payload: dict[str, Any]) -> None:
    """Run one music job; progress and the result travel on the event stream."""
    run_task(self, payload, "music")
