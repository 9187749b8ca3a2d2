"""INTERACTION_CREATE payloads (slash commands, buttons, autocomplete) in Discord's v10 shape."""

from __future__ import annotations

from typing import Any

from bot.sandbox.interactions import APPLICATION_COMMAND, AUTOCOMPLETE, MESSAGE_COMPONENT
from bot.sandbox.world import ALL_PERMISSIONS, World

JSON = dict[str, Any]

CONTEXT_GUILD, CONTEXT_BOT_DM = 0, 1
BUTTON = 2


def base_payload(
    world: World,
    *,
    interaction_id: int,
    token: str,
    kind: int,
    user_id: int,
    channel_id: int,
    attachment_size_limit: int,
    locale: str = "en-US",
) -> JSON:
    """Fields every interaction carries; guild or DM context follows from the channel."""
    channel = world.channels[channel_id]
    guild_id = world.guild_of_channel(channel_id)
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "channel_id": str(channel_id),
        "channel": dict(channel),
        "locale": locale,
        "app_permissions": ALL_PERMISSIONS,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": attachment_size_limit,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        payload["guild_locale"] = "en-US"
        payload["member"] = world.member_payload(guild_id, user_id, with_permissions=True)
        payload["authorizing_integration_owners"] = {"0": str(guild_id)}
        payload["context"] = CONTEXT_GUILD
    else:
        payload["user"] = world.users[user_id]
        payload["authorizing_integration_owners"] = {"0": str(user_id)}
        payload["context"] = CONTEXT_BOT_DM
    return payload


def command_data(command: JSON, options: list[JSON], resolved: JSON) -> JSON:
    """``data`` of an application command interaction."""
    data: JSON = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": options,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def with_command(payload: JSON, data: JSON, *, autocomplete: bool = False) -> JSON:
    payload["type"] = AUTOCOMPLETE if autocomplete else APPLICATION_COMMAND
    payload["data"] = data
    return payload


def with_button(payload: JSON, message: JSON, custom_id: str) -> JSON:
    """Turn a base payload into a button click on ``message``."""
    payload["type"] = MESSAGE_COMPONENT
    payload["data"] = {"custom_id": custom_id, "component_type": BUTTON}
    payload["message"] = message
    return payload


def find_custom_ids(components: list[JSON]) -> list[str]:
    """Every ``custom_id`` in a (possibly nested) component tree."""
    found: list[str] = []
    for component in components:
        if "custom_id" in component:
            found.append(component["custom_id"])
        for key in ("components", "accessory"):
            child = component.get(key)
            if isinstance(child, list):
                found.extend(find_custom_ids(child))
            elif isinstance(child, dict):
                found.extend(find_custom_ids([child]))
    return found
