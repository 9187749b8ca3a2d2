"""``SandboxServer``: a loopback Discord (REST + gateway) for discord.py, driven from Python."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.actions import UserActions
from bot.sandbox.automod import AutoModApi
from bot.sandbox.commands import CommandRegistry
from bot.sandbox.control import ControlApi
from bot.sandbox.core import SandboxCore
from bot.sandbox.facade import SandboxFacade
from bot.sandbox.gateway import Gateway
from bot.sandbox.guild_features import GuildFeaturesApi
from bot.sandbox.interactions import InteractionRegistry
from bot.sandbox.messages import MessageFactory
from bot.sandbox.middleware import api_middleware
from bot.sandbox.rest import RestApi
from bot.sandbox.rules import SandboxRules
from bot.sandbox.snowflake import SnowflakeFactory
from bot.sandbox.store import AttachmentStore
from bot.sandbox.world import World

MAX_BODY_BYTES = 64 * 1024 * 1024


class SandboxServer(SandboxFacade):
    """A Discord-compatible server on loopback for the real discord.py client.

    ``async with SandboxServer() as server:`` starts it on a free port; point discord.py at
    ``server.api_base`` / ``server.gateway_url`` with :func:`bot.sandbox.point_discord_at`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        rules: SandboxRules | None = None,
        shard_count: int = 1,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.rules = rules or SandboxRules()
        ids = SnowflakeFactory()
        self.world = World(ids)
        attachments = AttachmentStore()
        self.gateway = Gateway(
            self.world,
            token=token,
            heartbeat_interval_ms=self.rules.heartbeat_interval_ms,
            resume_url=lambda: self.gateway_url,
        )
        self.core = SandboxCore(
            ids=ids,
            world=self.world,
            rules=self.rules,
            gateway=self.gateway,
            factory=MessageFactory(ids, attachments, lambda: self.base_url, self.world.users),
            attachments=attachments,
            commands=CommandRegistry(ids, self.world.application_id),
            interactions=InteractionRegistry(self.rules),
            shard_count=shard_count,
        )
        self.actions = UserActions(self.core)
        self.automod = AutoModApi(self.core, self.gateway)
        self.guild_features = GuildFeaturesApi(self.core, self.gateway)
        self._runner: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        # Bodies up to well past the per-file rule (several files per message); the rule itself,
        # with Discord's 413, is SandboxRules' to enforce, not aiohttp's 1 MiB default.
        app = web.Application(
            middlewares=[api_middleware(self.core.requests, self.core.faults, self.token)],
            client_max_size=MAX_BODY_BYTES,
        )
        RestApi(self.core, lambda: self.gateway_url).register(app)
        ControlApi(self).register(app)
        self.automod.register(app)
        self.guild_features.register(app)
        self.page.register(app)
        app.router.add_get("/gateway", self.gateway.handle)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
