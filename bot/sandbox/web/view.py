"""What one member sees of the sandbox: channels they may view, the commands Discord would show them,
and the messages meant for them (an ephemeral message only for the member whose interaction made it).

Everything here is a pure function of the sandbox's state, so the page's routes and the live hub
agree on it; payloads are copies, with the sandbox's own URLs made relative (the page is served from
the same server under whatever address the viewer used)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from bot.sandbox.commands import CommandRegistry
from bot.sandbox.messages import EPHEMERAL
from bot.sandbox.store import MessageStore, StoredMessage
from bot.sandbox.world import CHANNEL_DM, World

JSON = dict[str, Any]

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
CHANNEL_FORUM = 15
THREAD_TYPES = (10, 11, 12)
HISTORY_PER_CHANNEL = 100
KNOWN_KINDS = {0: "text", CHANNEL_DM: "dm", 5: "announcement", CHANNEL_FORUM: "forum"}


def humans(world: World, guild_id: int) -> list[int]:
    """The guild's members who are not bots, in the order they joined."""
    return [uid for uid in world.guilds[guild_id].member_ids if not world.users[uid].get("bot")]


def member_view(world: World, guild_id: int, user_id: int) -> JSON:
    """A member as the page shows them: name, roles, permissions and whether they moderate."""
    user = world.users[user_id]
    guild = world.guilds[guild_id]
    permissions = int(world.permissions_of(guild_id, user_id))
    return {
        "id": str(user_id),
        "username": user["username"],
        "name": user.get("global_name") or user["username"],
        "bot": bool(user.get("bot")),
        "owner": user_id == guild.owner_id,
        "roles": [str(r) for r in guild.member_roles.get(user_id, [])],
        "permissions": str(permissions),
        "moderator": bool(permissions & (MANAGE_GUILD | ADMINISTRATOR)),
    }


def channel_permissions(world: World, channel: JSON, user_id: int) -> int:
    """A member's permissions in a guild channel: the guild's, then the overwrites (@everyone, roles, member)."""
    guild_id = int(channel["guild_id"])
    guild = world.guilds[guild_id]
    if user_id == guild.owner_id:
        return int(world.permissions_of(guild_id, user_id))
    value = int(world.permissions_of(guild_id, user_id))
    if value & ADMINISTRATOR:
        return value
    parent_id = channel.get("parent_id")
    if channel.get("type") in THREAD_TYPES and parent_id and int(parent_id) in world.channels:
        channel = world.channels[int(parent_id)]
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites") or []}
    everyone = overwrites.get(str(guild_id))
    if everyone:
        value = (value & ~int(everyone.get("deny", 0))) | int(everyone.get("allow", 0))
    allow = deny = 0
    for role_id in guild.member_roles.get(user_id, []):
        overwrite = overwrites.get(str(role_id))
        if overwrite:
            allow |= int(overwrite.get("allow", 0))
            deny |= int(overwrite.get("deny", 0))
    value = (value & ~deny) | allow
    own = overwrites.get(str(user_id))
    if own:
        value = (value & ~int(own.get("deny", 0))) | int(own.get("allow", 0))
    return value


def can_view(world: World, channel_id: int, user_id: int) -> bool:
    channel = world.channels.get(channel_id)
    if channel is None:
        return False
    if "guild_id" not in channel:
        return any(int(r["id"]) == user_id for r in channel.get("recipients") or [])
    if user_id not in world.guilds[int(channel["guild_id"])].member_ids:
        return False
    return bool(channel_permissions(world, channel, user_id) & VIEW_CHANNEL)


def channel_view(world: World, channel: JSON, user_id: int) -> JSON:
    """A channel for the sidebar: its kind, whether it is age-restricted or private to some members."""
    kind = (
        "thread" if channel.get("type") in THREAD_TYPES else KNOWN_KINDS.get(channel.get("type", 0), "other")
    )
    shown: JSON = {
        "id": channel["id"],
        "type": channel.get("type", 0),
        "kind": kind,
        "name": channel.get("name") or "direct messages",
        "topic": channel.get("topic"),
        "nsfw": bool(channel.get("nsfw")),
        "parent_id": channel.get("parent_id"),
        "position": channel.get("position", 0),
        "guild_id": channel.get("guild_id"),
    }
    if "guild_id" in channel:
        everyone = next(
            (o for o in channel.get("permission_overwrites") or [] if str(o["id"]) == channel["guild_id"]),
            None,
        )
        shown["private"] = bool(everyone and int(everyone.get("deny", 0)) & VIEW_CHANNEL)
        shown["can_send"] = bool(channel_permissions(world, channel, user_id) & (1 << 11))
    else:
        shown["private"] = True
        shown["can_send"] = True
    return shown


def visible_channels(world: World, guild_id: int, user_id: int) -> list[JSON]:
    """The guild's channels (and threads) this member may view, then their DMs with the bot."""
    shown = [
        channel_view(world, c, user_id)
        for c in world.channels.values()
        if c.get("guild_id") == str(guild_id) and can_view(world, int(c["id"]), user_id)
    ]
    shown.sort(key=lambda c: (c["kind"] == "thread", c["position"], int(c["id"])))
    dms = [
        channel_view(world, c, user_id)
        for c in world.channels.values()
        if c.get("type") == CHANNEL_DM and can_view(world, int(c["id"]), user_id)
    ]
    return shown + dms


def visible_commands(registry: CommandRegistry, world: World, guild_id: int, user_id: int) -> list[JSON]:
    """Chat-input commands Discord would list for this member: guild ones shadow global ones, and a
    command with ``default_member_permissions`` is hidden from members without them."""
    permissions = int(world.permissions_of(guild_id, user_id))
    by_name: dict[str, JSON] = {}
    for command in [*registry.listing(None), *registry.listing(guild_id)]:
        if command.get("type", 1) == 1:
            by_name[command["name"]] = command
    shown = []
    for command in by_name.values():
        needed = command.get("default_member_permissions")
        if (
            needed is not None
            and not (permissions & ADMINISTRATOR)
            and (permissions & int(needed)) != int(needed)
        ):
            continue
        shown.append(command)
    return sorted(shown, key=lambda c: c["name"])


def message_for(world: World, message: StoredMessage, user_id: int) -> bool:
    """Whether ``user_id`` sees ``message``: in a channel they view, and, if ephemeral, theirs."""
    if not can_view(world, message.channel_id, user_id):
        return False
    if message.data.get("flags", 0) & EPHEMERAL:
        return owner_of(message) == user_id
    return True


def owner_of(message: StoredMessage) -> int | None:
    """The member an interaction's reply is for (who ran the command or clicked)."""
    metadata = message.data.get("interaction_metadata") or {}
    user = metadata.get("user") or {}
    return int(user["id"]) if "id" in user else None


def shaped(message: StoredMessage, base_url: str) -> JSON:
    """A copy for the page: the sandbox's absolute URLs made relative, ``ephemeral_for`` added."""
    data = copy.deepcopy(message.data)
    for attachment in data.get("attachments") or []:
        for key in ("url", "proxy_url"):
            attachment[key] = _relative(attachment.get(key), base_url)
    for embed in data.get("embeds") or []:
        for part in ("image", "thumbnail", "video", "author", "footer"):
            item = embed.get(part)
            if isinstance(item, dict):
                for key in ("url", "proxy_url", "icon_url", "proxy_icon_url"):
                    if key in item:
                        item[key] = _relative(item[key], base_url)
    if data.get("flags", 0) & EPHEMERAL:
        owner = owner_of(message)
        data["ephemeral_for"] = str(owner) if owner is not None else None
    return data


def history(store: MessageStore, world: World, user_id: int, base_url: str) -> list[JSON]:
    """The last messages of every channel this member views, oldest first."""
    per_channel: dict[int, list[StoredMessage]] = {}
    for message in store.in_channel():
        if message_for(world, message, user_id):
            per_channel.setdefault(message.channel_id, []).append(message)
    kept: Iterable[StoredMessage] = (
        m for messages in per_channel.values() for m in messages[-HISTORY_PER_CHANNEL:]
    )
    return [shaped(m, base_url) for m in sorted(kept, key=lambda m: m.id)]


def _relative(url: Any, base_url: str) -> Any:
    if isinstance(url, str) and url.startswith(base_url + "/"):
        return url[len(base_url) :]
    return url
