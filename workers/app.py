"""The Celery app: JSON only, late acks, one queue per modality, limits from config.

GPU workers: one worker per GPU (`CUDA_VISIBLE_DEVICES=N`), `-P prefork -c 1` so that a crashed child
is replaced and its job requeued at once; the parent never touches CUDA (models load in the child on
its first task).
"""

from __future__ import annotations

from celery import Celery
from celery.signals import setup_logging, worker_process_init
from kombu import Queue

from config.settings import ConfigError, Settings, get_settings
from workers import transport
from workers.contract import MODALITIES
from workers.log import setup_logging as setup_logging_for
from workers.routing import QUEUES, ROUTES

TASK_MODULES = [f"workers.tasks.{modality}" for modality in MODALITIES]


def check_limits(settings: Settings) -> None:
    """The Redis visibility timeout must exceed every hard time limit, or a long job runs twice."""
    for modality in MODALITIES:
        limits = settings.queue_limits(modality)
        if limits.soft_time_limit >= limits.time_limit:
            raise ConfigError(
                f"ATELIER_QUEUES__{modality.upper()}__SOFT_TIME_LIMIT must be below its TIME_LIMIT "
                f"({limits.soft_time_limit} >= {limits.time_limit})"
            )
        if limits.time_limit >= settings.visibility_timeout_s:
            raise ConfigError(
                f"ATELIER_VISIBILITY_TIMEOUT_S ({settings.visibility_timeout_s}) must exceed the {modality} "
                f"queue's time limit ({limits.time_limit})"
            )


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from settings (the bot uses it only to send tasks by name)."""
    settings = settings or get_settings()
    check_limits(settings)
    app = Celery("atelier", broker=settings.redis_url, include=TASK_MODULES)
    if settings.redis_url.startswith("redis://"):
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
        task_queues=[Queue(name) for name in QUEUES.values()],
        task_routes=ROUTES,
        task_default_queue=QUEUES["text"],
        task_create_missing_queues=False,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    return app


app = create_app()


@worker_process_init.connect
def _fresh_services_after_fork(**_: object) -> None:
    """Connections made in the parent must not be shared with a forked child."""
    from workers.runner import reset_services

    reset_services()


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    """Celery leaves logging to us: job-id-carrying structured logs."""
    settings = get_settings()
    setup_logging_for(settings.log_level, settings.log_json)
