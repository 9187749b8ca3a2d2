"""The real discord.py client against the sandbox: commands, followups, buttons and Discord's rules."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.sandbox import SandboxServer
from tests.bot.sandbox.art_bot import PNG, ArtBot
from tests.bot.sandbox.conftest import FakeClock


def is_followup(message: dict[str, object]) -> bool:
    return "steps" in str(message.get("content"))


async def test_connects_and_sees_the_guild(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    guild = art_bot.get_guild(sandbox.guild_id)
    assert guild is not None and not guild.unavailable
    assert art_bot.user is not None and art_bot.user.id == sandbox.bot_user_id
    assert guild.member_count == 2 and guild.me is not None
    assert art_bot.get_channel(sandbox.channel_id) is not None
    assert art_bot.application_id == sandbox.application_id


async def test_sync_registers_typed_guild_commands(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    synced = {c["name"]: c for c in sandbox.commands(sandbox.guild_id)}
    assert set(synced) == {"paint", "palette", "sketch", "ping", "slow", "later", "huge"}
    options = {o["name"]: o["type"] for o in synced["paint"]["options"]}
    assert options == {"prompt": 3, "steps": 4, "reference": 11}
    assert [c["name"] for c in sandbox.commands()] == ["hello"]
    with pytest.raises(LookupError):
        await sandbox.send_slash_command("unknown")


async def test_slash_command_round_trip(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    handle = await sandbox.send_slash_command("ping")
    await sandbox.wait_for_response(handle)
    assert handle.response_type == 4
    message = await sandbox.wait_for_message(lambda m: m["content"] == "pong")
    assert message["channel_id"] == str(sandbox.channel_id)
    assert message["interaction_metadata"]["id"] == str(handle.id)
    assert handle.original_message_id == int(message["id"])


async def test_deferred_followup_with_file_and_button(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    reference = sandbox.upload_attachment("ref.png", PNG, "image/png")
    handle = await sandbox.send_slash_command(
        "paint", {"prompt": "a fox", "steps": 7, "reference": reference}
    )
    message = await sandbox.wait_for_message(is_followup)
    assert handle.response_type == 5
    assert message["content"] == "a fox in 7 steps"
    assert message["id"] == str(handle.original_message_id), "the followup replaces the thinking message"
    assert not message["flags"] & (1 << 7)
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("art.png", len(PNG))
    assert art_bot.references == [PNG], "the bot downloaded the option attachment from the sandbox"
    [stored] = [m for m in sandbox.stored_messages() if m.id == int(message["id"])]
    assert stored.allowed_mentions == {"parse": []}
    [upload] = sandbox.requests_to("POST /webhooks/*")[0].files
    assert upload.data == PNG

    click = await sandbox.click_button(message, "again")
    await sandbox.wait_for_response(click)
    assert art_bot.clicks == [sandbox.member_id]
    reply = await sandbox.wait_for_message(lambda m: m["content"] == "Painting another one")
    assert reply["flags"] & 64, "ephemeral"


async def test_option_errors_are_refused_before_sending(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    with pytest.raises(ValueError, match="steps"):
        await sandbox.send_slash_command("paint", {"prompt": "x", "steps": "many"})
    with pytest.raises(ValueError, match="prompt"):
        await sandbox.send_slash_command("paint", {"steps": 3})
    with pytest.raises(ValueError, match="colour"):
        await sandbox.send_slash_command("paint", {"prompt": "x", "colour": "red"})


async def test_late_first_response_gets_unknown_interaction(
    sandbox: SandboxServer, art_bot: ArtBot, clock: FakeClock
) -> None:
    handle = await sandbox.send_slash_command("slow")
    await asyncio.sleep(0.05)
    clock.advance(3.5)
    art_bot.release.set()
    error = await art_bot.next_error()
    assert len(art_bot.errors) == 1
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert not handle.responded
    assert [r.code for r in handle.rejections] == [10062]


async def test_second_initial_response_is_rejected(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    handle = await sandbox.send_slash_command("ping")
    await sandbox.wait_for_response(handle)
    url = f"{sandbox.api_base}/interactions/{handle.id}/{handle.token}/callback"
    session = art_bot.http._HTTPClient__session  # type: ignore[attr-defined]
    async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as response:
        body = await response.json()
    assert response.status == 400 and body["code"] == 40060
    assert response.headers["Content-Type"] == "application/json"


async def test_followup_after_token_expiry_is_401(
    sandbox: SandboxServer, art_bot: ArtBot, clock: FakeClock
) -> None:
    handle = await sandbox.send_slash_command("later")
    await sandbox.wait_for_response(handle)
    clock.advance(15 * 60 + 1)
    art_bot.release.set()
    error = await art_bot.next_error()
    assert len(art_bot.errors) == 1
    assert error.status == 401 and error.code == 50027
    assert handle.followup_ids == []


async def test_oversized_file_is_413(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    limit = sandbox.rules.attachment_size_limit
    await sandbox.send_slash_command("huge", {"size": limit + 1})
    error = await art_bot.next_error()
    assert len(art_bot.errors) == 1
    assert error.status == 413 and error.code == 40005
    handle = await sandbox.send_slash_command("huge", {"size": limit})
    message = await sandbox.wait_for_message(
        lambda m: m["interaction_metadata"]["id"] == str(handle.id) and m["attachments"]
    )
    assert message["attachments"][0]["size"] == limit
    assert len(art_bot.errors) == 1


async def test_rate_limited_followup_is_retried(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    sandbox.rate_limit("POST /webhooks/*", retry_after=0.2)
    await sandbox.send_slash_command("paint", {"prompt": "rain"})
    await sandbox.wait_for_message(is_followup)
    assert [r.status for r in sandbox.requests_to("POST /webhooks/*")] == [429, 200]
    assert art_bot.errors == []


async def test_rate_limited_channel_message_is_retried(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    sandbox.rate_limit("POST /channels/*/messages", retry_after=0.2, count=2)
    channel = art_bot.get_channel(sandbox.channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello after waiting")
    statuses = [r.status for r in sandbox.requests_to("POST /channels/*/messages")]
    assert statuses == [429, 429, 200]
    assert sandbox.messages()[-1]["id"] == str(sent.id)


async def test_server_error_is_retried(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    sandbox.inject_failures("POST /channels/*/messages", status=502, count=1)
    channel = art_bot.get_channel(sandbox.channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("second time lucky")
    assert [r.status for r in sandbox.requests_to("POST /channels/*/messages")] == [502, 200]
    edited = await sent.edit(content="edited")
    assert edited.content == "edited" and sandbox.messages()[-1]["content"] == "edited"
    await sent.delete()
    assert sandbox.messages() == []


async def test_dm_interaction_carries_user_not_member(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    handle = await sandbox.send_slash_command("hello", guild=False)
    assert "member" not in handle.payload and "guild_id" not in handle.payload
    assert handle.payload["user"]["id"] == str(sandbox.member_id)
    message = await sandbox.wait_for_message(lambda m: m["content"].startswith("hello"))
    assert message["content"] == "hello tester from a DM"
    assert message["channel_id"] == str(sandbox.dm_channel_id)
    with pytest.raises(LookupError):
        await sandbox.send_slash_command("ping", guild=False)


async def test_autocomplete_returns_choices(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    handle = await sandbox.send_autocomplete("palette", {"colour": "r"}, focused="colour")
    await sandbox.wait_for_response(handle)
    assert handle.response_type == 8
    assert handle.response_data == {
        "choices": [{"name": "red", "value": "red"}, {"name": "rose", "value": "rose"}]
    }


async def test_allowed_mentions_are_recorded_and_applied(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    mention = f"<@{sandbox.member_id}>"
    await sandbox.send_slash_command("paint", {"prompt": mention})
    quiet = await sandbox.wait_for_message(is_followup)
    assert quiet["mentions"] == []
    channel = art_bot.get_channel(sandbox.channel_id)
    assert isinstance(channel, discord.TextChannel)
    loud = await channel.send(f"look {mention}")
    [stored] = [m for m in sandbox.messages() if m["id"] == str(loud.id)]
    assert [u["id"] for u in stored["mentions"]] == [str(sandbox.member_id)]


async def test_multipart_initial_response_with_view_then_edit(
    sandbox: SandboxServer, art_bot: ArtBot
) -> None:
    handle = await sandbox.send_slash_command("sketch")
    message = await sandbox.wait_for_message(lambda m: m["content"] == "sketch v2")
    assert message["id"] == str(handle.original_message_id)
    assert message["edited_timestamp"] is not None
    assert [a["filename"] for a in message["attachments"]] == ["sketch.png"]
    [callback] = sandbox.requests_to("POST /interactions/*/callback")
    assert callback.query.get("with_response") in ("1", "true") and callback.files[0].filename == "sketch.png"
    click = await sandbox.click_button(message, "again")
    await sandbox.wait_for_response(click)
    assert art_bot.clicks == [sandbox.member_id]
    assert art_bot.callback_message_ids == [int(message["id"])], "with_response gave the bot the message id"


async def test_button_that_updates_its_own_message(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    await sandbox.send_slash_command("paint", {"prompt": "dusk"})
    message = await sandbox.wait_for_message(is_followup)
    click = await sandbox.click_button(message, "done")
    await sandbox.wait_for_response(click)
    assert click.response_type == 7 and click.original_message_id == int(message["id"])
    [updated] = [m for m in sandbox.messages() if m["id"] == message["id"]]
    assert (updated["content"], updated["components"]) == ("finished", [])
    assert [a["filename"] for a in updated["attachments"]] == ["art.png"]
    with pytest.raises(LookupError):
        await sandbox.click_button(updated, "done")
