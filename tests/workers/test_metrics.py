"""A real Celery worker's `/metrics` (prefork, its child writing in multiprocess mode, the main
process serving the sum): a job held running, its child killed with SIGKILL and the job run again
by the next child, a finished job, and a failed one, each read back from the worker's endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings
from tests.conftest import settings_env
from tests.helpers.gated import GATED_PRESET, WORKER_APP, entered_key, gate_key, gated_preset_env
from tests.helpers.scrape import Scrape, scrape
from tests.polling import wait_until
from tests.services import WorkerProcess, free_port
from wire.broker import create_producer
from wire.contract import TextJob
from wire.routing import queue_for, task_for

MISSING_PRESET = "missing"


@pytest.fixture
def metrics_worker(settings: Settings, tmp_path: Path) -> Iterator[tuple[WorkerProcess, int]]:
    """The gated worker app on gen.text (prefork, one child) with its metrics on a free port."""
    port = free_port()
    env = settings_env(
        settings,
        ATELIER_METRICS__WORKER_PORT=str(port),
        ATELIER_TEXT_PRESETS__MISSING__MODEL=str(tmp_path / "no-such-model"),
        **gated_preset_env("gated-model"),
    )
    worker = WorkerProcess(env, queue_for("text"), tmp_path / "worker.log", app=WORKER_APP)
    worker.start(timeout=120)
    yield worker, port
    worker.stop()


def send(settings: Settings, job: TextJob) -> None:
    producer = create_producer(settings.redis_url, settings.visibility_timeout_s)
    try:
        producer.send_task(
            task_for("text"), args=[job.model_dump(mode="json")], task_id=job.id, queue=queue_for("text")
        )
    finally:
        producer.close()


async def scraped(port: int, check: object) -> Scrape:
    """Scrape until `check(scrape)` holds (a deadline, never a sleep as the assertion)."""

    async def attempt() -> Scrape | None:
        found = await asyncio.to_thread(scrape, port)
        return found if found is not None and check(found) else None  # type: ignore[operator]

    result: Scrape = await wait_until(attempt, 180, interval=0.2)
    return result


async def test_worker_metrics_follow_jobs_across_a_killed_child(
    settings: Settings, metrics_worker: tuple[WorkerProcess, int], redis_client: redis.Redis
) -> None:
    worker, port = metrics_worker
    first = await scraped(port, lambda s: True)
    assert first.total("atelier_worker_jobs_total") == 0

    held = TextJob(options={"prompt": "a held job", "kind": "poem"}, preset=GATED_PRESET)
    send(settings, held)
    await wait_until(lambda: int(redis_client.get(entered_key(held.id)) or 0) >= 1, 120)
    running = await scraped(port, lambda s: s.value("atelier_worker_jobs_running", modality="text") == 1)
    assert running.value("atelier_worker_job_wait_seconds_count", modality="text") == 1
    assert running.types["atelier_worker_jobs_running"] == "gauge"

    killed = worker.kill_child()  # mid-job: the parent replaces the child and the job runs again
    await wait_until(lambda: int(redis_client.get(entered_key(held.id)) or 0) >= 2, 180)
    assert killed not in worker.children()
    # the dead child's "running" is swept away: one job runs, not two
    again = await scraped(port, lambda s: s.value("atelier_worker_jobs_running", modality="text") == 1)
    assert again.total("atelier_worker_jobs_total") == 0

    redis_client.set(gate_key(held.id), "1")
    done = await scraped(
        port, lambda s: s.value("atelier_worker_jobs_total", modality="text", outcome="succeeded") == 1
    )
    assert done.value("atelier_worker_jobs_running", modality="text") == 0
    assert done.value("atelier_worker_job_run_seconds_count", modality="text", outcome="succeeded") == 1
    assert done.types["atelier_worker_jobs"] == "counter"
    assert done.types["atelier_worker_job_run_seconds"] == "histogram"

    broken = TextJob(options={"prompt": "no model", "kind": "poem"}, preset=MISSING_PRESET)
    send(settings, broken)
    failed = await scraped(
        port,
        lambda s: (
            s.value("atelier_worker_job_failures_total", modality="text", error_code="model_missing") == 1
        ),
    )
    assert failed.value("atelier_worker_jobs_total", modality="text", outcome="failed") == 1
    # counts from the killed child and from its successor are both kept
    assert failed.value("atelier_worker_jobs_total", modality="text", outcome="succeeded") == 1
    assert failed.total("atelier_worker_job_wait_seconds_count") == 3  # two attempts of one job, and one
