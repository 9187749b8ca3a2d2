"""The Celery configuration both sides share: JSON only, late acks, one queue per modality.

The bot builds a producer with it (it only sends tasks, by name); the worker's app factory
(`workers.app.create_worker_app`) builds its app on the same configuration and adds the tasks.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from wire import transport
from wire.routing import ALL_QUEUES, QUEUES, ROUTES


def configure(app: Celery, redis_url: str, visibility_timeout_s: int) -> None:
    """Apply the shared configuration to `app`, whose broker is `redis_url`."""
    if redis_url.startswith("redis://"):
        app.conf.broker_transport = transport.NAME  # kombu's, with one client per channel
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(name) for name in ALL_QUEUES],
        task_routes=ROUTES,
        task_default_queue=QUEUES["text"],
        task_create_missing_queues=False,
        broker_transport_options={"visibility_timeout": visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )


def create_producer(redis_url: str, visibility_timeout_s: int) -> Celery:
    """A Celery app that only sends tasks (by name) to the workers' queues."""
    app = Celery("atelier", broker=redis_url)
    configure(app, redis_url, visibility_timeout_s)
    return app
