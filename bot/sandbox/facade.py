"""What a running sandbox offers its drivers (tests, the control API, the CLI): ids, what the bot did,
acting as a member, and faults. `SandboxServer` builds the parts and serves them over HTTP."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.actions import AttachmentInput, UserActions
from bot.sandbox.automod import AutoModApi
from bot.sandbox.core import SandboxCore
from bot.sandbox.gateway import Gateway, GatewayEvent
from bot.sandbox.interactions import InteractionHandle
from bot.sandbox.middleware import API_PREFIX
from bot.sandbox.rules import Fault, route_matches
from bot.sandbox.store import RecordedRequest, StoredMessage
from bot.sandbox.web import acting
from bot.sandbox.web.page import WebPage
from bot.sandbox.world import World

JSON = dict[str, Any]


class SandboxFacade:
    """The sandbox's parts behind one set of methods (the server fills them in)."""

    host: str
    port: int
    world: World
    gateway: Gateway
    core: SandboxCore
    actions: UserActions
    automod: AutoModApi

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

    # --- changing the world (the bot hears of it as it would from Discord) ----------------------

    async def create_channel(
        self, name: str, *, guild_id: int | None = None, nsfw: bool = False, forum: bool = False
    ) -> int:
        """A new text channel (age-restricted with ``nsfw``, a forum with ``forum``); CHANNEL_CREATE
        reaches the bot."""
        guild = self.guild_id if guild_id is None else guild_id
        channel_id = self.world.add_channel(guild, name)
        self.world.channels[channel_id]["nsfw"] = nsfw
        if forum:
            self.world.channels[channel_id].update(
                type=15,
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        await self.gateway.dispatch(
            "CHANNEL_CREATE", dict(self.world.channels[channel_id]), guild_id=guild, intent=1
        )
        return channel_id

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel: CHANNEL_DELETE reaches the bot, and Discord answers 404 10003 for it."""
        channel = self.world.remove_channel(channel_id)
        if channel is not None:
            guild = channel.get("guild_id")
            await self.gateway.dispatch(
                "CHANNEL_DELETE", dict(channel), guild_id=int(guild) if guild else None, intent=1
            )

    def close_channel(self, channel_id: int) -> None:
        """Take the bot's access to a channel away: Discord answers 403 50001 (Missing Access)."""
        self.world.closed_channels.add(channel_id)

    async def create_guild(self, name: str) -> int:
        """A new guild with the bot and the test member in it; GUILD_CREATE reaches its shard."""
        guild = self.world.add_guild(name)
        await self.gateway.dispatch(
            "GUILD_CREATE", self.world.guild_create_payload(guild.id), guild_id=guild.id, intent=1
        )
        return guild.id

    async def create_role(self, name: str, permissions: int = 0, *, guild_id: int | None = None) -> int:
        """A new role; GUILD_ROLE_CREATE reaches the bot."""
        guild = self.guild_id if guild_id is None else guild_id
        role_id = self.world.add_role(guild, name, permissions)
        role = self.world.role_payload(guild, role_id)
        await self.gateway.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild), "role": role}, guild_id=guild, intent=1
        )
        return role_id

    async def create_automod_rule(
        self,
        name: str,
        *,
        keywords: list[str] | None = None,
        regex_patterns: list[str] | None = None,
        allow_list: list[str] | None = None,
        guild_id: int | None = None,
    ) -> JSON:
        """A moderator adds a keyword AutoMod rule; AUTO_MODERATION_RULE_CREATE reaches the bot."""
        guild = self.guild_id if guild_id is None else guild_id
        rule = self.world.add_automod_rule(
            guild, name, keywords=keywords, regex_patterns=regex_patterns, allow_list=allow_list
        )
        await self.automod.changed(guild, rule, "CREATE")
        return rule

    async def update_automod_rule(self, rule: JSON, **metadata: list[str]) -> JSON:
        """A moderator edits a rule's keywords, patterns or allow list; the UPDATE event reaches the bot."""
        guild = int(rule["guild_id"])
        stored = self.world.guilds[guild].automod_rules[int(rule["id"])]
        stored["trigger_metadata"].update(metadata)
        await self.automod.changed(guild, stored, "UPDATE")
        return stored

    async def delete_automod_rule(self, rule: JSON) -> None:
        guild = int(rule["guild_id"])
        removed = self.world.guilds[guild].automod_rules.pop(int(rule["id"]))
        await self.automod.changed(guild, removed, "DELETE")

    # --- acting as the user --------------------------------------------------------------------

    def upload_attachment(
        self, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> JSON:
        """Store bytes and return an attachment object served at ``/_sandbox/attachments/...``."""
        return self.actions.upload(filename, data, content_type)

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
        validate: bool = True,
    ) -> InteractionHandle:
        """Invoke a synced slash command (``"group sub"`` for subcommands) as ``user`` (the test member).

        ``validate=False`` sends the options unchecked against the synced schema (out of range, wrong
        type, unknown), as a modified client could send them straight to the bot."""
        given = {**(options or {}), **(attachments or {})}
        return await self.actions.command(
            name, given, user=user, channel=channel, guild=guild, locale=locale, validate=validate
        )

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
        return await self.actions.command(name, options, user=user, guild=guild, focused=focused)

    async def click_button(
        self, message: JSON | int, custom_id: str, *, user: int | None = None
    ) -> InteractionHandle:
        """Click the button ``custom_id`` on a stored message."""
        message_id = int(message["id"]) if isinstance(message, dict) else int(message)
        return await self.actions.click(message_id, custom_id, user=user)

    async def post_user_message(
        self, content: str, *, channel: int | None = None, user: int | None = None
    ) -> JSON:
        """A human posts in a channel (MESSAGE_CREATE for bots with the messages intent)."""
        return await self.actions.post(content, channel=channel, user=user)

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

    # --- the web page and the interactions it adds (bot/sandbox/web) -----------------------------

    _page: WebPage | None = None

    @property
    def page(self) -> WebPage:
        """The sandbox's web page (served at ``/``); set ``page.status_source`` to feed its job panel."""
        if self._page is None:
            self._page = WebPage(self.core, self.actions, lambda: self.base_url, lambda: self.host)
        return self._page

    @property
    def page_url(self) -> str:
        """Where a browser opens the page (a wildcard bind is reached on loopback)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{host}:{self.port}/"

    async def submit_modal(
        self,
        opened: InteractionHandle,
        values: Mapping[str, str | list[str]],
        *,
        user: int | None = None,
    ) -> InteractionHandle:
        """Submit the modal the bot answered ``opened`` with: ``values`` by each input's ``custom_id``
        (inputs left out keep their prefilled value), as the member who opened it unless ``user``."""
        return await acting.submit_modal(self.actions, opened, values, user=user)

    async def choose_in_select(
        self, message: JSON | int, custom_id: str, values: list[str], *, user: int | None = None
    ) -> InteractionHandle:
        """Choose ``values`` in the select menu ``custom_id`` of a stored message."""
        message_id = int(message["id"]) if isinstance(message, dict) else int(message)
        return await acting.choose(self.actions, message_id, custom_id, values, user=user)
