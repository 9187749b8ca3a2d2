"""The one routing table: a task and a queue per modality."""

from __future__ import annotations

from wire.contract import MODALITIES

QUEUES: dict[str, str] = {modality: f"gen.{modality}" for modality in MODALITIES}
TASKS: dict[str, str] = {modality: f"atelier.generate.{modality}" for modality in MODALITIES}
ROUTES: dict[str, dict[str, str]] = {TASKS[m]: {"queue": QUEUES[m]} for m in MODALITIES}


def task_for(modality: str) -> str:
    """The Celery task name that runs jobs of a modality."""
    return TASKS[modality]


def queue_for(modality: str) -> str:
    """The queue a modality's jobs travel on."""
    return QUEUES[modality]
