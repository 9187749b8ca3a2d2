"""A migrated database and a discovery service on it, with a broker stand-in that keeps what it is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.db.database import Database, open_database
from bot.db.engine import upgrade_database
from bot.discovery.repository import DiscoveryRepository
from bot.discovery.service import DiscoveryService
from config.settings import DiscoverySettings


class SentTasks:
    """Celery's `send_task`, recorded (only JSON-ready payloads pass)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def send_task(self, name: str, args: list[Any], queue: str, task_id: str) -> None:
        import json

        json.dumps(args)  # JSON only on the queue
        self.sent.append((name, args[0], queue))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await upgrade_database(database_url)
    db = open_database(database_url)
    yield db
    await db.close()


@pytest.fixture
def repository(database: Database) -> DiscoveryRepository:
    return DiscoveryRepository(database)


@pytest.fixture
def broker() -> SentTasks:
    return SentTasks()


@pytest.fixture
async def discovery(repository: DiscoveryRepository, broker: SentTasks) -> AsyncIterator[DiscoveryService]:
    service = DiscoveryService(
        repository,
        DiscoverySettings(refit_min_signals=1, refit_interval_s=0.001),
        broker,  # type: ignore[arg-type]
    )
    await service.start()
    yield service
    await service.drain()
