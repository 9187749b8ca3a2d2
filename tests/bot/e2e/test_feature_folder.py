"""A feature with its own command and buttons lives in its own folder (tests/helpers/example_feature),
and the permission decorator gates it on both sides: Discord's default permissions, and our check
when a crafted interaction from a member without the permission reaches the bot anyway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from bot.app import AtelierBot, create_bot
from bot.core.loader import extension_names
from bot.sandbox import SandboxServer
from config.settings import Settings

TOKEN = "sandbox-bot-token"
EXAMPLE = "tests.helpers.example_feature"


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


@pytest.fixture
async def example_bot(sandbox: SandboxServer, settings: Settings) -> AsyncIterator[AtelierBot]:
    settings = settings.model_copy(update={"discord_test_guild_id": sandbox.guild_id})
    bot = create_bot(settings, consumer_name="e2e-example", extensions=[*extension_names(), EXAMPLE])
    task = asyncio.create_task(bot.start(TOKEN))
    await sandbox.wait_until_ready(timeout=20)
    await asyncio.wait_for(bot.wait_until_ready(), 20)
    try:
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 20)


async def test_the_moderators_command_is_hidden_from_members_by_default(
    example_bot: AtelierBot, sandbox: SandboxServer
) -> None:
    tidy = next(c for c in sandbox.commands(sandbox.guild_id) if c["name"] == "tidy")
    assert int(tidy["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    compose = next(c for c in sandbox.commands(sandbox.guild_id) if c["name"] == "compose")
    assert compose.get("default_member_permissions") is None  # everyone else's commands stay open


async def test_a_moderator_may_and_a_crafted_interaction_from_a_member_may_not(
    example_bot: AtelierBot, sandbox: SandboxServer
) -> None:
    owner = await sandbox.send_slash_command("tidy")  # the test member owns the sandbox server
    await sandbox.wait_for_response(owner, 5)
    reply = owner.response_data or {}
    assert reply["content"] == "ready to tidy" and reply["flags"] & 64
    button = f"example:tidy:{sandbox.guild_id}"
    assert custom_ids(reply) == [button]

    member = sandbox.world.add_user("member")
    sandbox.world.add_member(sandbox.guild_id, member)
    crafted = await sandbox.send_slash_command("tidy", user=member)
    await sandbox.wait_for_response(crafted, 5)
    refusal = crafted.response_data or {}
    assert "Manage Guild" in refusal["content"] and refusal["flags"] & 64
    assert "ready" not in refusal["content"]

    message = next(m for m in sandbox.stored_messages() if custom_ids(m.data) == [button])
    pressed = await sandbox.click_button(int(message.data["id"]), button)
    await sandbox.wait_for_response(pressed, 5)
    assert (pressed.response_data or {})["content"] == f"tidied guild {sandbox.guild_id}"
    pressed_by_member = await sandbox.click_button(int(message.data["id"]), button, user=member)
    await sandbox.wait_for_response(pressed_by_member, 5)
    assert "Manage Guild" in (pressed_by_member.response_data or {})["content"]


async def test_a_feature_puts_its_button_on_job_messages_between_remix_and_delete(
    example_bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "a quiet harbour", "length": 4})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    assert custom_ids(queued) == [f"atelier:cancel:{job_id}"]  # no worker runs here: it stays queued
    cancelled = await sandbox.click_button(queued, f"atelier:cancel:{job_id}")
    await sandbox.wait_for_response(cancelled, 5)
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == int(queued["id"]) and f"atelier:delete:{job_id}" in custom_ids(m), 10
    )
    assert custom_ids(final) == [
        f"atelier:reroll:{job_id}",
        f"example:star:{job_id}",
        f"atelier:delete:{job_id}",
    ]
    starred = await sandbox.click_button(final, f"example:star:{job_id}")
    await sandbox.wait_for_response(starred, 5)
    assert (starred.response_data or {})["content"] == f"starred {job_id[:8]} (delivered)"
