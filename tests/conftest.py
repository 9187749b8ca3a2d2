"""Shared fixtures: a private Redis, settings pointing at it, worker subprocesses."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings, load_settings
from tests.services import ROOT, RedisServer, WorkerProcess

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def settings(redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path) -> Settings:
    """Settings for one test: private Redis, a fresh SQLite file, a unique event stream."""
    tag = uuid.uuid4().hex[:8]
    return load_settings(
        redis_url=redis_server.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}",
        events={"stream": f"test:{tag}:events", "group": "test-bot", "block_ms": 200},
        reconciler={"interval_s": 0.5, "queued_grace_s": 0.5, "running_grace_s": 2.0, "max_attempts": 3},
        model_cache_dir=tmp_path / "cache",
    )


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment that makes a subprocess read the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        ATELIER_REDIS_URL=settings.redis_url,
        ATELIER_DATABASE_URL=settings.database_url,
        ATELIER_EVENTS__STREAM=settings.events.stream,
        ATELIER_EVENTS__GROUP=settings.events.group,
        ATELIER_MODEL_CACHE_DIR=str(settings.model_cache_dir),
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    env.update(extra)
    return env


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[object]:
    """Start real Celery workers; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(
        settings: Settings, queues: str = "gen.text", pool: str = "prefork", **env: str
    ) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(settings_env(settings, **env), queues, log_path, pool=pool)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()
