"""The permission decorator and checks, on real discord.py interactions built from Discord payloads."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.core.checks import MissingPermissions, ensure_permissions, owns_or_moderates, require_permissions

MEMBER, OWNER = 111, 222


def interaction(user_id: int, permissions: discord.Permissions) -> discord.Interaction[Any]:
    """What the checks read of an interaction: the member's resolved permissions and who they are.
    (The real path, through discord.py and the local Discord server, is tests/bot/e2e/test_feature_folder.py.)"""
    return SimpleNamespace(  # type: ignore[return-value]
        user=SimpleNamespace(id=user_id),
        guild_id=3,
        permissions=permissions,
        command=None,
        data={"custom_id": "example:tidy:3"},
        type=discord.InteractionType.component,
    )


def test_missing_permissions_are_refused_by_name() -> None:
    ensure_permissions(interaction(OWNER, discord.Permissions.all()), manage_guild=True)
    with pytest.raises(MissingPermissions) as refused:
        ensure_permissions(
            interaction(MEMBER, discord.Permissions(send_messages=True)), manage_guild=True, kick_members=True
        )
    assert refused.value.missing == ["manage_guild", "kick_members"]
    with pytest.raises(ValueError):
        ensure_permissions(interaction(OWNER, discord.Permissions.all()), manage_everything=True)


def test_owners_and_moderators_may_manage_a_job() -> None:
    assert owns_or_moderates(interaction(MEMBER, discord.Permissions.none()), MEMBER, 3)
    assert not owns_or_moderates(interaction(MEMBER, discord.Permissions.none()), OWNER, 3)
    assert owns_or_moderates(interaction(MEMBER, discord.Permissions(manage_messages=True)), OWNER, 3)
    # a moderator of another server may not touch it
    assert not owns_or_moderates(interaction(MEMBER, discord.Permissions(manage_messages=True)), OWNER, 4)


def test_the_decorator_sets_the_default_permissions_and_adds_the_server_side_check() -> None:
    @app_commands.command(name="tidy", description="tidy")
    @require_permissions(manage_guild=True)
    async def tidy(interaction: discord.Interaction[Any]) -> None: ...

    assert tidy.default_permissions == discord.Permissions(manage_guild=True)
    assert len(tidy.checks) == 1
    with pytest.raises(MissingPermissions):
        tidy.checks[0](interaction(MEMBER, discord.Permissions.none()))
    assert tidy.checks[0](interaction(OWNER, discord.Permissions(manage_guild=True)))
    with pytest.raises(ValueError):
        require_permissions(manage_everything=True)
