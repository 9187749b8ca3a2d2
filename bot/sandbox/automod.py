"""AutoMod rules on the sandbox's guilds: the REST routes discord.py uses to read and change them
(reading needs Manage Server, as on Discord), and the gateway events that tell the bot of changes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox import http_utils as h
from bot.sandbox.core import SandboxCore
from bot.sandbox.gateway import Gateway
from bot.sandbox.middleware import API_PREFIX

JSON = dict[str, Any]
AUTO_MODERATION_CONFIGURATION = 1 << 20  # the gateway intent for AUTO_MODERATION_RULE_* events
MANAGE_GUILD = 0x20


class AutoModApi:
    """`/guilds/{guild_id}/auto-moderation/rules[/{rule_id}]`."""

    def __init__(self, core: SandboxCore, gateway: Gateway) -> None:
        self.core = core
        self.gateway = gateway

    def register(self, app: web.Application) -> None:
        base = API_PREFIX + "/guilds/{guild_id}/auto-moderation/rules"
        app.router.add_route("GET", base, self.list_rules)
        app.router.add_route("GET", base + "/{rule_id}", self.get_rule)

    async def list_rules(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        if isinstance(guild, web.Response):
            return guild
        return h.json_response(list(guild.automod_rules.values()))

    async def get_rule(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        if isinstance(guild, web.Response):
            return guild
        rule = guild.automod_rules.get(int(request.match_info["rule_id"]))
        return h.json_response(rule) if rule else h.error_response(404, 10066, "Unknown auto moderation rule")

    async def changed(self, guild_id: int, rule: JSON, event: str) -> None:
        """Tell the bot a rule was created, updated or deleted (`event` is CREATE, UPDATE or DELETE)."""
        await self.gateway.dispatch(
            f"AUTO_MODERATION_RULE_{event}", rule, guild_id=guild_id, intent=AUTO_MODERATION_CONFIGURATION
        )

    def _guild(self, request: web.Request) -> Any:
        world = self.core.world
        guild_id = int(request.match_info["guild_id"])
        guild = world.guilds.get(guild_id)
        if guild is None:
            return h.error_response(404, 10004, "Unknown Guild")
        if not int(world.permissions_of(guild_id, world.application_id)) & MANAGE_GUILD:
            return h.error_response(403, 50013, "Missing Permissions")
        return guild
