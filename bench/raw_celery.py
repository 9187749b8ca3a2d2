"""Raw Celery on the same Redis, for the side-by-side benchmark: a no-op task that reports when it started."""

from __future__ import annotations

import time

from celery import Celery

from config.settings import get_settings

RAW_QUEUE = "bench.raw"

raw_app = Celery("atelier-bench-raw", broker=get_settings().redis_url, backend=get_settings().redis_url)
raw_app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=RAW_QUEUE,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
)


@raw_app.task(name="bench.noop")
def noop() -> float:
    """Do nothing; return the wall-clock time the task started."""
    return time.time()
