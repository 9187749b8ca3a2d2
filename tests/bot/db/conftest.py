"""Database fixtures: every test that asks for `database_url` runs on SQLite and on PostgreSQL.

The PostgreSQL fixtures live in tests/conftest.py (the pipeline tests use them too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, upgrade_database
from bot.db.jobs import JobRepository


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
async def repository(engine: AsyncEngine, database_url: str) -> AsyncIterator[JobRepository]:
    """A repository on the migrated database."""
    repository = JobRepository.open(database_url)
    try:
        yield repository
    finally:
        await repository.close()
