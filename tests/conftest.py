"""Shared fixtures: a private Redis, PostgreSQL databases, settings pointing at them, worker subprocesses.

PostgreSQL: one throw-away database per test session (created from the `test` database at
ATELIER_TEST_POSTGRES_URL, dropped at the end), emptied after every test. If the server cannot be
reached the PostgreSQL runs are skipped, unless ATELIER_REQUIRE_POSTGRES=1 makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import redis
from sqlalchemy.engine import make_url

from config.settings import Settings, load_settings
from tests.services import ROOT, RedisServer, WorkerProcess

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
T = TypeVar("T")


def _run_isolated(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop, leaving pytest-asyncio's loops untouched."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _empty_database(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    admin_url = os.environ.get("ATELIER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"atelier_test_{uuid.uuid4().hex[:12]}"
    try:
        _run_isolated(_create_database(admin_url, name))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        if os.environ.get("ATELIER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {admin_url} is required but unusable: {error}")
        pytest.skip(f"PostgreSQL at {admin_url} unusable: {error}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_isolated(_drop_database(admin_url, name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or the session's PostgreSQL database, emptied afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'atelier.db'}"
        return
    url: str = request.getfixturevalue("postgres_session_url")
    try:
        yield url
    finally:
        _run_isolated(_empty_database(url))


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
        settings: Settings,
        queues: str = "gen.text",
        pool: str = "prefork",
        app: str = "workers.main",
        **env: str,
    ) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(settings_env(settings, **env), queues, log_path, pool=pool, app=app)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()
