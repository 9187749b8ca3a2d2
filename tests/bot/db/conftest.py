"""Database fixtures: every test that asks for `database_url` runs on SQLite and on PostgreSQL.

PostgreSQL: one throw-away database per test session (created from the `test` database at
ATELIER_TEST_POSTGRES_URL, dropped at the end), emptied after every test. If the server cannot be
reached the PostgreSQL runs are skipped, unless ATELIER_REQUIRE_POSTGRES=1 makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, make_sessionmaker, upgrade_database
from bot.db.repository import JobRepository

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


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def repository(engine: AsyncEngine) -> JobRepository:
    return JobRepository(make_sessionmaker(engine))
