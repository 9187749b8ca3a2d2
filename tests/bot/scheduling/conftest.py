"""Timer fixtures: a migrated database (SQLite and PostgreSQL, through `database_url`), a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.db.engine import upgrade_database
from bot.scheduling.clock import ManualClock
from bot.scheduling.repository import TimerRepository

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def timers_url(database_url: str) -> str:
    """`database_url`, migrated to head."""
    await upgrade_database(database_url)
    return database_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def timers(timers_url: str, clock: ManualClock) -> AsyncIterator[TimerRepository]:
    """A timer repository on the migrated database, stamping times from `clock`."""
    repository = TimerRepository.open(timers_url, clock)
    try:
        yield repository
    finally:
        await repository.close()
