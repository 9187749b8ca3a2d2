"""The real bot on the local Discord server, for fuzzing: a private Redis, a fresh SQLite file or
PostgreSQL database, and no worker (valid jobs stay queued, so what the bot decided is what the test sees)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.app import AtelierBot
from bot.sandbox import SandboxServer
from config.settings import Settings, load_settings
from tests.bot.e2e.conftest import BotControl, sandbox
from tests.services import RedisServer

__all__ = ["sandbox"]


@pytest.fixture
def settings(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path, database_url: str
) -> Settings:
    """On SQLite and on PostgreSQL (tests/conftest.py's `database_url`)."""
    tag = uuid.uuid4().hex[:8]
    return load_settings(
        redis_url=redis_server.url,
        database_url=database_url,
        events={"stream": f"fuzz:{tag}:events", "group": f"bot-{tag}", "block_ms": 100},
        data_dir=tmp_path / "var",
    )


@pytest.fixture
async def bot(sandbox: SandboxServer, settings: Settings) -> AsyncIterator[AtelierBot]:
    control = BotControl(sandbox, settings)
    try:
        yield await control.start()
    finally:
        await control.stop()
