"""Alembic migrations: they build exactly the models' schema, and take it down again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import (
    alembic_config,
    create_engine,
    downgrade_database,
    upgrade_database,
    upgrade_database_sync,
)
from bot.db.models import Base

REPO_ROOT = Path(__file__).resolve().parents[3]


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _inspect(url: str) -> tuple[set[str], list[Any], str | None]:
    engine: AsyncEngine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(_table_names)
            differences = await connection.run_sync(_schema_differences)
            revision = await connection.run_sync(_current_revision)
        return tables, differences, revision
    finally:
        await engine.dispose()


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_from_empty_builds_exactly_the_models(database_url: str) -> None:
    await upgrade_database(database_url)
    tables, differences, revision = await _inspect(database_url)
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert differences == []
    assert revision == _head()


async def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    await upgrade_database(database_url)
    await upgrade_database(database_url)
    _, differences, revision = await _inspect(database_url)
    assert differences == []
    assert revision == _head()


async def test_downgrade_to_base_removes_every_table(database_url: str) -> None:
    await upgrade_database(database_url)
    await downgrade_database(database_url, "base")
    tables, differences, revision = await _inspect(database_url)
    assert tables <= {"alembic_version"}
    assert revision is None
    assert {difference[0] for difference in differences} == {"add_table", "add_index"}
    await upgrade_database(database_url)
    _, differences, _ = await _inspect(database_url)
    assert differences == []


async def test_sync_upgrade_works_inside_a_running_loop(database_url: str) -> None:
    upgrade_database_sync(database_url)
    tables, differences, _ = await _inspect(database_url)
    assert "jobs" in tables
    assert differences == []


def test_sync_upgrade_works_without_a_loop(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "atelier.db"
    upgrade_database_sync(f"sqlite+aiosqlite:///{database}")
    assert database.exists()


def test_alembic_command_line_uses_the_configured_url(tmp_path: Path) -> None:
    database = tmp_path / "cli" / "atelier.db"
    env = {**os.environ, "ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    ini = REPO_ROOT / "bot" / "db" / "migrations" / "alembic.ini"
    alembic = [sys.executable, "-m", "alembic", "-c", str(ini)]
    subprocess.run([*alembic, "upgrade", "head"], cwd=tmp_path, env=env, check=True, capture_output=True)
    current = subprocess.run(
        [*alembic, "current"], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    assert f"{_head()} (head)" in current.stdout


async def test_processes_starting_together_migrate_once(database_url: str) -> None:
    """The bot and the scheduler start at the same moment on a fresh database; both must succeed."""
    await asyncio.gather(*(upgrade_database(database_url) for _ in range(4)))
    tables, differences, revision = await _inspect(database_url)
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert differences == []
    assert revision == _head()
