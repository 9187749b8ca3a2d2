"""A client with Atelier's real services and every extension loaded, without a gateway connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord

from bot.core.client import AtelierClient
from bot.core.loader import extension_names
from bot.core.services import Services
from bot.core.tree import AtelierTree
from bot.runtime import open_runtime
from config.settings import Settings


@asynccontextmanager
async def loaded_client(settings: Settings, *, load: bool = True) -> AsyncIterator[AtelierClient]:
    """An AtelierClient on a real runtime (database, Redis, Celery producer), extensions loaded."""
    async with open_runtime(settings) as runtime:
        client = AtelierClient(command_prefix="!", intents=discord.Intents.none(), tree_cls=AtelierTree)
        client._services = Services.build(client, runtime)
        if load:
            for name in extension_names():
                await client.load_extension(name)
        try:
            yield client
        finally:
            await client.services.deliverer.drain()
