"""`AtelierBot`: the Discord client, its runtime (database, Redis, Celery) and its event consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

import discord
from discord.ext import commands

from bot.core.client import AtelierClient
from bot.core.loader import extension_names
from bot.core.services import Services
from bot.core.sync import sync_if_changed
from bot.core.tree import AtelierTree
from bot.delivery.deliverer import Deliverer
from bot.i18n import AtelierTranslator
from bot.metrics.process import BotMetrics
from bot.runtime import Runtime, open_runtime
from config.settings import Settings
from wire.events import EventConsumer

log = logging.getLogger(__name__)

REDELIVER_INTERVAL_S = 60.0


def _base_class(settings: Settings) -> type[commands.Bot | commands.AutoShardedBot]:
    return commands.AutoShardedBot if settings.discord_shard_count else commands.Bot


def create_bot(
    settings: Settings,
    *,
    consumer_name: str | None = None,
    force_sync: bool = False,
    extensions: Sequence[str] | None = None,
) -> AtelierBot:
    """An AtelierBot, sharded when `discord_shard_count` is set; `force_sync` syncs even if unchanged;
    `extensions` are the feature packages to load (default: every package under bot/exts)."""
    options: dict[str, Any] = {
        "consumer_name": consumer_name,
        "force_sync": force_sync,
        "extensions": extensions,
    }
    if _base_class(settings) is commands.Bot:
        return AtelierBot(settings, **options)
    sharded = type("ShardedAtelierBot", (AtelierBot, commands.AutoShardedBot), {})
    return sharded(settings, **options)  # type: ignore[no-any-return]


class AtelierBot(AtelierClient):
    """Slash commands for music, images and writing; results delivered from the worker event stream.

    Build it with `create_bot(settings)` so it is sharded when configured.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        consumer_name: str | None = None,
        force_sync: bool = False,
        extensions: Sequence[str] | None = None,
    ) -> None:
        options: dict[str, Any] = {}
        if settings.discord_shard_count:
            options["shard_count"] = settings.discord_shard_count
            if settings.discord_shard_ids is not None:
                options["shard_ids"] = list(settings.discord_shard_ids)
        metrics = BotMetrics.for_settings(settings.metrics)
        if metrics is not None:
            options["http_trace"] = metrics.interactions.trace  # times each interaction's first response
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(
                guilds=True,
                auto_moderation_configuration=True,
                guild_reactions=True,  # discovery: reactions on Atelier's posts (GUILD_MESSAGE_REACTIONS, not privileged)
            ),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=AtelierTree,
            help_command=None,
            **options,
        )
        self.settings = settings
        self.metrics = metrics
        shards = settings.discord_shard_ids
        suffix = "-shards-" + "-".join(map(str, shards)) if shards is not None else ""
        self.consumer_name = consumer_name or f"bot@{socket.gethostname()}{suffix}"
        self._stack = AsyncExitStack()
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task[Any]] = []
        self._runtime: Runtime | None = None
        self._deliverer: Deliverer | None = None
        self.force_sync = force_sync
        self.extensions_to_load = list(extensions) if extensions is not None else extension_names()
        self.synced = False

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the bot has not started yet")
        return self._runtime

    @property
    def deliverer(self) -> Deliverer:
        if self._deliverer is None:
            raise RuntimeError("the bot has not started yet")
        return self._deliverer

    async def setup_hook(self) -> None:
        """Open the runtime, hand features their services, start consuming events, deliver leftovers,
        sync commands."""
        runtime = self._runtime = await self._stack.enter_async_context(open_runtime(self.settings))
        services = self._services = Services.build(self, runtime)
        self._deliverer = services.deliverer
        if self.metrics is not None:
            self._background.append(self.metrics.start(self, runtime, self._stop))
        await self.tree.set_translator(AtelierTranslator())
        for name in self.extensions_to_load:
            await self.load_extension(name)
        self._background.append(
            asyncio.create_task(services.guilds.listen(self._stop), name="guild-settings")
        )
        self._background.append(asyncio.create_task(services.outbox.run(self._stop), name="outbox"))
        events = self.settings.events
        consumer = EventConsumer(
            self._runtime.redis,
            events.stream,
            events.group,
            self.consumer_name,
            self._deliverer.handle_event,
            block_ms=events.block_ms,
            claim_idle_ms=events.claim_idle_ms,
            concurrency=self.settings.event_handler_concurrency,
            batch_handler=self._deliverer.handle_events,
        )
        self._background.append(asyncio.create_task(consumer.run(self._stop), name="event-consumer"))
        self._background.append(
            asyncio.create_task(self._deliverer.redeliver_forever(REDELIVER_INTERVAL_S), name="redeliver")
        )
        self._deliverer.spawn(self._deliverer.deliver_backlog())
        guild_id = self.settings.discord_test_guild_id if self.settings.env == "development" else None
        assert self.application_id is not None
        self.synced = await sync_if_changed(
            self.tree, self.application_id, self.settings.data_dir, guild_id, force=self.force_sync
        )

    async def close(self) -> None:
        """Stop consuming, let in-flight deliveries finish, close the runtime, then disconnect."""
        self._stop.set()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        if self._deliverer is not None:
            await self._deliverer.drain()
        await self._stack.aclose()
        if self.metrics is not None:
            self.metrics.stop()
        await super().close()
