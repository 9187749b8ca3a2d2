"""Fixtures for the page's own tests: the sandbox with its cast, a small real discord.py bot, a browser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox import SandboxServer
from bot.sandbox.web.demo import Cast, furnish
from tests.bot.sandbox.conftest import TOKEN
from tests.bot.sandbox.web.browser import launch
from tests.bot.sandbox.web.form_bot import FormBot


@pytest.fixture
async def cast(sandbox: SandboxServer) -> Cast:
    return await furnish(sandbox)


@pytest.fixture
async def form_bot(sandbox: SandboxServer, cast: Cast) -> AsyncIterator[FormBot]:
    bot = FormBot(sandbox.guild_id)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await asyncio.wait_for(bot.ready.wait(), 10)
        for _ in range(100):  # setup_hook syncs before READY; wait until the sandbox has them
            if sandbox.commands(sandbox.guild_id):
                break
            await asyncio.sleep(0.05)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with launch() as chromium:
        yield chromium
