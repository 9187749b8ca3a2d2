"""The music generation task."""

from __future__ import annotations

from typing import Any

from celery import Task

from workers.tasks.common import run_task


def generate(task: Task, payload: dict[str, Any]) -> None:
    """Run one music job; progress and the result travel on the event stream."""
    run_task(task, payload, "music")
