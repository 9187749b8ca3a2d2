"""Fixtures for the sandbox tests: a server on a free port with discord.py pointed at it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.sandbox import SandboxRules, SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from tests.bot.sandbox.art_bot import ArtBot

TOKEN = "sandbox-test-token"


class FakeClock:
    """Monotonic time plus an offset tests can push forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rules(clock: FakeClock) -> SandboxRules:
    return SandboxRules(clock=clock, attachment_size_limit=64 * 1024)


@pytest.fixture
def shard_count() -> int:
    return 1


@pytest.fixture
async def sandbox(rules: SandboxRules, shard_count: int) -> AsyncIterator[SandboxServer]:
    saved = current_endpoints()
    async with SandboxServer(token=TOKEN, rules=rules, shard_count=shard_count) as server:
        point_discord_at(server.api_base, server.gateway_url)
        try:
            yield server
        finally:
            restore_endpoints(saved)


@pytest.fixture
async def art_bot(sandbox: SandboxServer) -> AsyncIterator[ArtBot]:
    bot = ArtBot(sandbox.guild_id)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await asyncio.wait_for(bot.ready.wait(), 10)
        await bot.tree.sync(guild=bot.guild)
        await bot.tree.sync()
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
