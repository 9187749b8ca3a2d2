"""One Celery task per modality, registered on an app by `register_tasks`; all run through
`workers.runner.run_job` (image jobs through `workers.batching` when batching is on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery, Task

from config.settings import Settings
from wire.routing import task_for
from workers.tasks import embed, image, music, text

TaskFunction = Callable[[Task, dict[str, Any]], None]
TASKS: dict[str, TaskFunction] = {
    "music": music.generate,
    "image": image.generate,
    "text": text.generate,
    "embed": embed.embed_items,  # discovery's content embeddings, on a service queue of its own
}


def register_tasks(app: Celery, settings: Settings) -> None:
    """Add every modality's task to `app`, with that queue's time limits from `settings`."""
    for modality, function in TASKS.items():
        limits = settings.queue_limits(modality)
        app.task(
            name=task_for(modality),
            shared=False,  # this app only: another app in the process keeps its own limits
            bind=True,
            soft_time_limit=limits.soft_time_limit,
            time_limit=limits.time_limit,
        )(function)
