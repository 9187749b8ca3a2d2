"""``SandboxServer``: a loopback Discord (REST + gateway) for discord.py, driven from Python."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.sandbox import interaction_payloads as ip
from bot.sandbox.commands import ATTACHMENT, CommandRegistry, OptionResolvers, command_options
from bot.sandbox.control import ControlApi
from bot.sandbox.core import SandboxCore
from bot.sandbox.gateway import Gateway, GatewayEvent
from bot.sandbox.interactions import InteractionHandle, InteractionRegistry, new_token
from bot.sandbox.messages import MessageFactory
from bot.sandbox.middleware import API_PREFIX, api_middleware
from bot.sandbox.rest import RestApi
from bot.sandbox.rules import Fault, SandboxRules, route_matches
from bot.sandbox.snowflake import SnowflakeFactory
from bot.sandbox.store import AttachmentStore, RecordedRequest, StoredMessage
from bot.sandbox.world import World

JSON = dict[str, Any]
AttachmentInput = JSON | tuple[str, bytes] | tuple[str, bytes, str]


class SandboxServer:
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
        self._runner: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[api_middleware(self.core.requests, self.core.faults, self.token)])
        RestApi(self.core, lambda: self.gateway_url).register(app)
        ControlApi(self).register(app)
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

    # --- addresses and ids ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``DISCORD_API_BASE`` / ``discord.http.Route.BASE``."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DISCORD_GATEWAY_URL`` / ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user_id(self) -> int:
        return self.world.bot_user_id

    @property
    def guild_id(self) -> int:
        return self.world.default_guild.id

    @property
    def channel_id(self) -> int:
        return self.world.default_channel_id

    @property
    def dm_channel_id(self) -> int:
        return self.world.dm_channel_id

    @property
    def member_id(self) -> int:
        """The test member: a human in every guild, and the DM recipient."""
        return self.world.test_member_id

    # --- what the bot did ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.core.requests

    def requests_to(self, pattern: str) -> list[RecordedRequest]:
        """Recorded requests matching ``"POST /webhooks/*"``-style patterns (see :func:`route_matches`)."""
        return [r for r in self.core.requests if route_matches(pattern, r.method, r.path)]

    def messages(self, channel_id: int | None = None) -> list[JSON]:
        """Messages a user would see in ``channel_id`` (default channel when None), oldest first."""
        channel = self.channel_id if channel_id is None else channel_id
        return [copy.deepcopy(m.data) for m in self.core.messages.in_channel(channel)]

    def stored_messages(self, channel_id: int | None = None) -> list[StoredMessage]:
        """Messages with sandbox-side facts (``allowed_mentions``, interaction id); all channels when None."""
        return self.core.messages.in_channel(channel_id)

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands the bot synced globally, or for ``guild_id``."""
        return self.core.commands.listing(guild_id)

    async def wait_for_message(self, predicate: Callable[[JSON], bool], timeout: float = 5.0) -> JSON:
        """The first live message (any channel) satisfying ``predicate``."""
        return await self.core.messages.wait_for(predicate, timeout)

    async def wait_for_response(self, handle: InteractionHandle, timeout: float = 5.0) -> InteractionHandle:
        """Wait for the bot's initial response to ``handle``."""
        await handle.wait_responded(timeout)
        return handle

    async def wait_for_gateway(self, kind: str, *, count: int = 1, timeout: float = 10.0) -> GatewayEvent:
        """Wait until the gateway saw ``kind`` (identify, resume, drop, disconnect…) ``count`` times."""
        return await self.gateway.wait_for(kind, count=count, timeout=timeout)

    async def wait_until_ready(self, timeout: float = 10.0, *, shards: int = 1) -> None:
        """Wait until ``shards`` sessions have identified."""
        await self.gateway.wait_for("identify", count=shards, timeout=timeout)

    # --- acting as the user --------------------------------------------------------------------

    def upload_attachment(
        self, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> JSON:
        """Store bytes and return an attachment object served at ``/_sandbox/attachments/...``."""
        return self.core.factory.attachment(filename, data, content_type)

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: int | None = None,
        channel: int | None = None,
        guild: bool = True,
        attachments: Mapping[str, AttachmentInput] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Invoke a synced slash command (``"group sub"`` for subcommands) as ``user`` (the test member)."""
        return await self._command(name, options, user, channel, guild, attachments, locale, focused=None)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: int | None = None,
        guild: bool = True,
    ) -> InteractionHandle:
        """Send an autocomplete interaction (type 4) with ``focused`` as the option being typed."""
        return await self._command(name, options, user, None, guild, None, "en-US", focused=focused)

    async def click_button(
        self, message: JSON | int, custom_id: str, *, user: int | None = None
    ) -> InteractionHandle:
        """Click the button ``custom_id`` on a stored message."""
        message_id = int(message["id"]) if isinstance(message, dict) else int(message)
        stored = self.core.messages.get(message_id)
        if stored is None:
            raise LookupError(f"message {message_id} is not in the sandbox")
        found = ip.find_custom_ids(stored.data.get("components", []))
        if custom_id not in found:
            raise LookupError(f"message {message_id} has no component {custom_id!r}; it has {found}")
        payload = self._base(user, stored.channel_id, 0)
        return await self._deliver(ip.with_button(payload, copy.deepcopy(stored.data), custom_id))

    async def post_user_message(
        self, content: str, *, channel: int | None = None, user: int | None = None
    ) -> JSON:
        """A human posts in a channel (MESSAGE_CREATE for bots with the messages intent)."""
        channel_id = self.channel_id if channel is None else channel
        author = self.world.users[self.member_id if user is None else user]
        message = self.core.factory.create(
            channel_id=channel_id,
            guild_id=self.world.guild_of_channel(channel_id),
            author=author,
            payload={"content": content},
            files=(),
        )
        await self.core.publish(message)
        return copy.deepcopy(message.data)

    async def _command(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        user: int | None,
        channel: int | None,
        guild: bool,
        attachments: Mapping[str, AttachmentInput] | None,
        locale: str,
        *,
        focused: str | None,
    ) -> InteractionHandle:
        channel_id = channel if channel is not None else self.channel_id if guild else self.dm_channel_id
        guild_id = self.world.guild_of_channel(channel_id)
        root, *path = name.split()
        command = self.core.commands.find(root, guild_id)
        given = dict(options or {})
        given.update(attachments or {})
        resolved: JSON = {}
        built = command_options(command, path, given, self._resolvers(guild_id), resolved)
        if focused is not None:
            _mark_focused(built, focused)
        payload = self._base(user, channel_id, 0, locale)
        payload = ip.with_command(
            payload, ip.command_data(command, built, resolved), autocomplete=focused is not None
        )
        return await self._deliver(payload)

    def _base(self, user: int | None, channel_id: int, kind: int, locale: str = "en-US") -> JSON:
        if channel_id not in self.world.channels:
            raise LookupError(f"unknown channel {channel_id}")
        return ip.base_payload(
            self.world,
            interaction_id=self.core.ids.next(),
            token=new_token(),
            kind=kind,
            user_id=self.member_id if user is None else user,
            channel_id=channel_id,
            attachment_size_limit=self.rules.attachment_size_limit,
            locale=locale,
        )

    async def _deliver(self, payload: JSON) -> InteractionHandle:
        guild = payload.get("guild_id")
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        handle = InteractionHandle(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            channel_id=int(payload["channel_id"]),
            guild_id=int(guild) if guild else None,
            user_id=int(user["id"]),
            created_at=self.rules.clock(),
            payload=payload,
        )
        self.core.interactions.add(handle)
        await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=handle.guild_id)
        return handle

    def _resolvers(self, guild_id: int | None) -> OptionResolvers:
        world = self.world

        def member(user_id: int) -> JSON | None:
            if guild_id is None or user_id not in world.guilds[guild_id].member_ids:
                return None
            return world.member_payload(guild_id, user_id, with_permissions=True)

        def role(role_id: int) -> JSON | None:
            return world.everyone_role(role_id) if role_id in world.guilds else None

        def attachment(value: Any) -> JSON:
            if isinstance(value, dict):
                return value
            filename, data, *rest = value
            return self.upload_attachment(filename, data, rest[0] if rest else "application/octet-stream")

        return OptionResolvers(
            user=world.users.get,
            member=member,
            channel=lambda cid: dict(world.channels[cid]) if cid in world.channels else None,
            role=role,
            attachment=attachment,
        )

    # --- faults --------------------------------------------------------------------------------

    async def drop_gateway(self, shard_id: int | None = None) -> int:
        """Cut gateway sockets abruptly; discord.py should RESUME."""
        return await self.gateway.drop(shard_id)

    async def send_reconnect(self, shard_id: int | None = None) -> int:
        """Send op 7 RECONNECT."""
        return await self.gateway.send_reconnect(shard_id)

    async def invalidate_session(self, shard_id: int | None = None, *, resumable: bool = False) -> int:
        """Send op 9 INVALID_SESSION; non-resumable sessions are forgotten, forcing a new IDENTIFY."""
        return await self.gateway.invalidate_session(shard_id, resumable=resumable)

    def inject_failures(self, route_pattern: str, status: int = 500, count: int = 1) -> Fault:
        """The next ``count`` requests matching ``route_pattern`` get ``status`` (e.g. ``"POST /channels/*"``)."""
        return self.core.faults.add_failures(route_pattern, status, count)

    def rate_limit(
        self, route_pattern: str, retry_after: float, count: int = 1, *, is_global: bool = False
    ) -> Fault:
        """The next ``count`` matching requests get a proper 429 with ``retry_after`` seconds."""
        return self.core.faults.add_rate_limit(route_pattern, retry_after, count, is_global=is_global)


def _mark_focused(options: list[JSON], focused: str) -> None:
    for option in options:
        if "options" in option:
            _mark_focused(option["options"], focused)
        elif option["name"] == focused:
            option["focused"] = True
            if option["type"] == ATTACHMENT:
                raise ValueError("attachment options cannot be focused")
