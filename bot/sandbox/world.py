"""The sandbox's fixed cast: application, bot user, guilds, channels and members, as v10 payloads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.snowflake import SnowflakeFactory

JSON = dict[str, Any]

ALL_PERMISSIONS = str((1 << 51) - 1)
EVERYONE_PERMISSIONS = str(0x0006_3584_0EC1)  # view, send, read history, attach, embed, use app commands…
BOT_PERMISSIONS = 0x0006_3584_0EC1 | 0x20  # the invite's: @everyone's and Manage Server (AutoMod rules)
CHANNEL_TEXT = 0
CHANNEL_DM = 1


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def user_payload(user_id: int, username: str, *, bot: bool = False) -> JSON:
    """A v10 user object."""
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else username.title(),
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


@dataclass
class Guild:
    """A guild with its channels and member user ids (the owner is the test member)."""

    id: int
    name: str
    owner_id: int
    channels: list[JSON] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)
    roles: list[JSON] = field(default_factory=list)
    """Roles besides @everyone (whose id is the guild's)."""
    member_roles: dict[int, list[int]] = field(default_factory=dict)
    automod_rules: dict[int, JSON] = field(default_factory=dict)
    """AutoMod rules by id, as `GET /guilds/{id}/auto-moderation/rules` returns them."""


class World:
    """Everything the bot can see: ids are snowflakes, payloads follow Discord's API v10."""

    def __init__(
        self, ids: SnowflakeFactory, *, bot_name: str = "Atelier", member_name: str = "tester"
    ) -> None:
        self._ids = ids
        self.application_id = ids.next()
        self.bot_user = user_payload(self.application_id, bot_name, bot=True)
        self.users: dict[int, JSON] = {self.application_id: self.bot_user}
        self.test_member_id = self.add_user(member_name)
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, JSON] = {}
        self.closed_channels: set[int] = set()
        """Channels the bot can no longer see (its access was taken away): Discord answers 403 50001."""
        self.default_guild = self.add_guild("Atelier Sandbox")
        self.default_channel_id = int(self.default_guild.channels[0]["id"])
        self.dm_channel_id = ids.next()
        self.channels[self.dm_channel_id] = {
            "id": str(self.dm_channel_id),
            "type": CHANNEL_DM,
            "last_message_id": None,
            "recipients": [self.users[self.test_member_id]],
        }

    def dm_channel_for(self, user_id: int) -> JSON | None:
        """The DM channel between the bot and a user (created on first use, as Discord does)."""
        if user_id not in self.users or user_id == self.application_id:
            return None
        for channel in self.channels.values():
            if channel["type"] == CHANNEL_DM and channel["recipients"][0]["id"] == str(user_id):
                return channel
        channel_id = self._ids.next()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": CHANNEL_DM,
            "last_message_id": None,
            "recipients": [self.users[user_id]],
        }
        return self.channels[channel_id]

    @property
    def bot_user_id(self) -> int:
        return self.application_id

    def add_user(self, username: str) -> int:
        """Create a human user and return its id."""
        user_id = self._ids.next()
        self.users[user_id] = user_payload(user_id, username)
        return user_id

    def add_guild(self, name: str, *, channel_names: tuple[str, ...] = ("general",)) -> Guild:
        """Create a guild containing the bot and the test member, with text channels."""
        guild = Guild(id=self._ids.next(), name=name, owner_id=self.test_member_id)
        guild.member_ids = [self.application_id, self.test_member_id]
        self.guilds[guild.id] = guild
        for name_ in channel_names:
            self.add_channel(guild.id, name_)
        bot_role = self.add_role(guild.id, self.bot_user["username"], BOT_PERMISSIONS)
        guild.roles[-1]["managed"] = True  # the role Discord gives an invited bot
        self.give_role(guild.id, self.application_id, bot_role)
        return guild

    def add_automod_rule(
        self,
        guild_id: int,
        name: str,
        *,
        keywords: list[str] | None = None,
        regex_patterns: list[str] | None = None,
        allow_list: list[str] | None = None,
        enabled: bool = True,
    ) -> JSON:
        """A keyword AutoMod rule (trigger type 1) that blocks the message, as Discord stores it."""
        rule_id = self._ids.next()
        rule = {
            "id": str(rule_id),
            "guild_id": str(guild_id),
            "name": name,
            "creator_id": str(self.test_member_id),
            "event_type": 1,
            "trigger_type": 1,
            "trigger_metadata": {
                "keyword_filter": list(keywords or []),
                "regex_patterns": list(regex_patterns or []),
                "allow_list": list(allow_list or []),
            },
            "actions": [{"type": 1, "metadata": {}}],
            "enabled": enabled,
            "exempt_roles": [],
            "exempt_channels": [],
        }
        self.guilds[guild_id].automod_rules[rule_id] = rule
        return rule

    def add_channel(self, guild_id: int, name: str) -> int:
        guild = self.guilds[guild_id]
        channel_id = self._ids.next()
        channel = {
            "id": str(channel_id),
            "type": CHANNEL_TEXT,
            "guild_id": str(guild_id),
            "name": name,
            "position": len(guild.channels),
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        guild.channels.append(channel)
        self.channels[channel_id] = channel
        return channel_id

    def remove_channel(self, channel_id: int) -> JSON | None:
        """Delete a guild channel (Discord then answers 404 10003 for it); the removed payload."""
        channel = self.channels.pop(channel_id, None)
        if channel is not None and channel.get("guild_id") is not None:
            guild = self.guilds[int(channel["guild_id"])]
            guild.channels[:] = [c for c in guild.channels if int(c["id"]) != channel_id]
        self.closed_channels.discard(channel_id)
        return channel

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> int:
        """Create a role in a guild and return its id."""
        role_id = self._ids.next()
        role = {
            **self.everyone_role(guild_id),
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
        }
        role["position"] = len(self.guilds[guild_id].roles) + 1
        self.guilds[guild_id].roles.append(role)
        return role_id

    def give_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        """Give a member a role (its permissions add to @everyone's)."""
        roles = self.guilds[guild_id].member_roles.setdefault(user_id, [])
        if role_id not in roles:
            roles.append(role_id)

    def role_payload(self, guild_id: int, role_id: int) -> JSON | None:
        """A role of the guild (its own id is @everyone), or None."""
        if role_id == guild_id:
            return self.everyone_role(guild_id)
        return next((r for r in self.guilds[guild_id].roles if int(r["id"]) == role_id), None)

    def permissions_of(self, guild_id: int, user_id: int) -> str:
        """A member's permissions: everything for the owner, else @everyone's and their roles' combined."""
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        value = int(EVERYONE_PERMISSIONS)
        for role_id in guild.member_roles.get(user_id, []):
            role = self.role_payload(guild_id, role_id)
            if role is not None:
                value |= int(role["permissions"])
        return str(value)

    def add_member(self, guild_id: int, user_id: int) -> None:
        guild = self.guilds[guild_id]
        if user_id not in guild.member_ids:
            guild.member_ids.append(user_id)

    def guild_of_channel(self, channel_id: int) -> int | None:
        channel = self.channels.get(channel_id)
        if channel is None or "guild_id" not in channel:
            return None
        return int(channel["guild_id"])

    def everyone_role(self, guild_id: int) -> JSON:
        return {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": EVERYONE_PERMISSIONS,
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    def member_payload(self, guild_id: int, user_id: int, *, with_permissions: bool = False) -> JSON:
        guild = self.guilds[guild_id]
        member: JSON = {
            "user": self.users[user_id],
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in guild.member_roles.get(user_id, [])],
            "joined_at": guild.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        if with_permissions:
            member["permissions"] = self.permissions_of(guild_id, user_id)
        return member

    def guild_create_payload(self, guild_id: int, *, all_members: bool = True) -> JSON:
        """The GUILD_CREATE payload; without ``all_members`` only the bot's own member (as without presences)."""
        guild = self.guilds[guild_id]
        listed = guild.member_ids if all_members else [self.application_id]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [self.everyone_role(guild.id), *guild.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(guild.channels[0]["id"]) if guild.channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": guild.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(guild.member_ids),
            "members": [self.member_payload(guild.id, uid) for uid in listed],
            "channels": [dict(channel) for channel in guild.channels],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def application_payload(self) -> JSON:
        """``GET /oauth2/applications/@me``."""
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "Atelier sandbox application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.users[self.test_member_id],
            "team": None,
            "bot": self.bot_user,
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "tags": [],
        }
