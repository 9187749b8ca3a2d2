"""What every generation task does around `run_job`."""

from __future__ import annotations

from typing import Any, Protocol, cast

from celery import Task

from workers.runner import LOCK_TTL_S, JobBusy, Services, run_job


class ServedApp(Protocol):
    """The app a task runs on (`workers.app.WorkerApp`): it holds the process's services."""

    def services(self) -> Services: ...


def task_services(task: Task) -> Services:
    """The services of the worker app that `task` is registered on."""
    return cast(ServedApp, task.app).services()


def run_task(task: Task, payload: dict[str, Any], modality: str) -> None:
    """Run the job; if another worker holds it, come back once its lock could have expired."""
    try:
        run_job(payload, modality, task_services(task))
    except JobBusy:
        raise task.retry(countdown=LOCK_TTL_S, max_retries=None) from None
