"""Who may do what: one decorator for slash commands, one check for buttons and modals.

`require_permissions(manage_guild=True)` sets Discord's `default_member_permissions` (members without
them do not see the command; admins can narrow it further in the server's Integrations settings)
and checks again on our side, because a crafted interaction can reach the bot anyway. A refusal is
logged with who tried what, and the member gets a friendly private answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

log = logging.getLogger(__name__)

T = TypeVar("T")


class MissingPermissions(app_commands.CheckFailure):
    """The member lacks permissions an action needs (the friendly message names them)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"missing permissions: {', '.join(missing)}")
        self.missing = missing


def missing_permissions(interaction: discord.Interaction[Any], **required: bool) -> list[str]:
    """The permissions in `required` that the member lacks in this channel (from the interaction)."""
    granted = interaction.permissions  # the member's resolved permissions, as Discord sends them
    return [name for name, wanted in required.items() if wanted and not getattr(granted, name)]


def ensure_permissions(interaction: discord.Interaction[Any], **required: bool) -> None:
    """Raise MissingPermissions (and log the attempt) unless the member has `required` here."""
    unknown = [name for name in required if name not in discord.Permissions.VALID_FLAGS]
    if unknown:
        raise ValueError(f"unknown permissions {unknown}")
    missing = missing_permissions(interaction, **required)
    if missing:
        log.warning(
            "refused: member %s in guild %s lacks %s for %s",
            interaction.user.id,
            interaction.guild_id,
            ",".join(missing),
            _what(interaction),
        )
        raise MissingPermissions(missing)


def require_permissions(**required: bool) -> Callable[[T], T]:
    """Hide the command from members without `required` and refuse it on the server side too."""
    unknown = [name for name in required if name not in discord.Permissions.VALID_FLAGS]
    if unknown:
        raise ValueError(f"unknown permissions {unknown}")

    def predicate(interaction: discord.Interaction[Any]) -> bool:
        ensure_permissions(interaction, **required)
        return True

    def decorate(command: T) -> T:
        command = app_commands.default_permissions(**required)(command)
        return app_commands.check(predicate)(command)

    return decorate


def owns_or_moderates(
    interaction: discord.Interaction[Any], owner_id: int | None, guild_id: int | None
) -> bool:
    """The member who asked for something, or one who can manage messages on the server it belongs to
    (a moderator elsewhere may not touch it: nothing crosses servers)."""
    if owner_id is not None and owner_id == interaction.user.id:
        return True
    if guild_id is None or guild_id != interaction.guild_id:
        return False
    return not missing_permissions(interaction, manage_messages=True)


def _what(interaction: discord.Interaction[Any]) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    return str(data.get("custom_id") or interaction.type.name)
