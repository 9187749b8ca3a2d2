"""The one routing table: a task and a queue per modality, and the service queues (discovery's
content embeddings) kept apart from generation so a long render never delays them."""

from __future__ import annotations

from wire.contract import MODALITIES

QUEUES: dict[str, str] = {modality: f"gen.{modality}" for modality in MODALITIES}
TASKS: dict[str, str] = {modality: f"atelier.generate.{modality}" for modality in MODALITIES}
EMBED = "embed"
EMBED_QUEUE = "svc.embed"
EMBED_TASK = "atelier.embed.items"
SERVICE_QUEUES: dict[str, str] = {EMBED: EMBED_QUEUE}
"""Queues that carry no generation job (no admission, no job lifecycle)."""
SERVICE_TASKS: dict[str, str] = {EMBED: EMBED_TASK}
ALL_QUEUES: tuple[str, ...] = (*QUEUES.values(), *SERVICE_QUEUES.values())
ROUTES: dict[str, dict[str, str]] = {
    **{TASKS[m]: {"queue": QUEUES[m]} for m in MODALITIES},
    **{SERVICE_TASKS[s]: {"queue": SERVICE_QUEUES[s]} for s in SERVICE_QUEUES},
}


def task_for(modality: str) -> str:
    """The Celery task name that runs jobs of a modality (or a service's, e.g. `embed`)."""
    return TASKS[modality] if modality in TASKS else SERVICE_TASKS[modality]


def queue_for(modality: str) -> str:
    """The queue a modality's jobs (or a service's tasks) travel on."""
    return QUEUES[modality] if modality in QUEUES else SERVICE_QUEUES[modality]
