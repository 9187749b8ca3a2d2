"""The worker's Celery app, built by a factory from settings (nothing is read at import).

GPU workers: one worker per GPU (`CUDA_VISIBLE_DEVICES=N`), `-P prefork -c 1` so that a crashed child
is replaced and its job requeued at once; the parent never touches CUDA (models load in the child on
its first task). `celery -A workers.main` runs the app that `workers/main.py` builds from the
environment; a test or a worker on another host builds its own with `create_worker_app(settings)`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_ready

from config.settings import ConfigError, Settings
from wire.artifacts import ArtifactUnavailable, make_store
from wire.broker import configure
from wire.contract import MODALITIES
from wire.log import setup_logging as setup_logging_for
from workers.metrics.serve import prepare as prepare_metrics
from workers.runner import Services
from workers.tasks import register_tasks

log = logging.getLogger(__name__)


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


class WorkerApp(Celery):  # type: ignore[misc]
    """Celery with the settings it was built from and this process's services (made after a fork)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("atelier", broker=settings.redis_url)
        self.settings = settings
        self._services: Services | None = None
        self._services_pid = 0

    def services(self) -> Services:
        """Redis, the artifact store and the event stream, made once per process: a forked child
        makes its own instead of sharing the parent's connections."""
        if self._services is None or self._services_pid != os.getpid():
            self._services = Services.from_settings(self.settings)
            self._services_pid = os.getpid()
        return self._services


def create_worker_app(settings: Settings) -> WorkerApp:
    """A worker's Celery app: the shared broker configuration, the tasks, limits from `settings`."""
    check_limits(settings)
    prepare_metrics(settings.metrics)  # before any metric is made and before the pool forks
    app = WorkerApp(settings)
    configure(app, settings.redis_url, settings.visibility_timeout_s)
    register_tasks(app, settings)

    def configure_logging(**_: Any) -> None:
        """Celery leaves logging to us: job-id-carrying structured logs."""
        setup_logging_for(settings.log_level, settings.log_json)

    setup_logging.connect(configure_logging, weak=False, dispatch_uid="atelier-worker-logging")

    def check_store(sender: Any = None, **_: Any) -> None:
        """Say at start, in one line, if the artifact store cannot be used (a missing bucket, refused
        credentials); the worker stays up and its jobs fail with a clear reason until it is fixed."""
        if getattr(sender, "app", None) is not app:  # another app's worker in this process
            return
        try:
            make_store(settings).check()
        except ArtifactUnavailable as error:
            log.error("the artifact store is unusable: %s", error)

    worker_ready.connect(check_store, weak=False)
    return app
