"""The bot process's metrics, put together: what `AtelierBot` starts when `metrics.bot_port` is set."""

from __future__ import annotations

import asyncio
from typing import Any

from discord.ext import commands

from bot.metrics.interactions import InteractionMetrics
from bot.metrics.queues import refresh_forever
from bot.metrics.server import MetricsServer
from bot.runtime import Runtime
from config.settings import MetricsSettings


class BotMetrics:
    """The interaction tracer (handed to the client when it is built), then, once the runtime is
    open, the `/metrics` endpoint and the queue-depth reader."""

    def __init__(self, settings: MetricsSettings) -> None:
        assert settings.bot_port
        self.settings = settings
        self.interactions = InteractionMetrics()
        self.server = MetricsServer(settings.host, settings.bot_port)

    @classmethod
    def for_settings(cls, settings: MetricsSettings) -> BotMetrics | None:
        """None when the bot's metrics are off (no port)."""
        return cls(settings) if settings.bot_port else None

    def start(self, bot: commands.Bot, runtime: Runtime, stop: asyncio.Event) -> asyncio.Task[Any]:
        """Serve `/metrics`, count interactions, and read queue depths until `stop`; the reader's task."""
        self.server.start()
        bot.add_listener(self.interactions.on_interaction, "on_interaction")
        reader = refresh_forever(runtime.jobs, runtime.redis, stop, self.settings.refresh_s)
        return asyncio.create_task(reader, name="metrics-queue-depths")

    def stop(self) -> None:
        self.server.stop()
