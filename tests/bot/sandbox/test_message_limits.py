"""Discord's message limits on the local server: the real discord.py client refused as Discord refuses."""

from __future__ import annotations

import discord
import pytest

from bot.sandbox import SandboxServer
from bot.sandbox.message_limits import IS_COMPONENTS_V2, message_problems
from tests.bot.sandbox.art_bot import ArtBot


def test_a_message_within_every_limit_has_no_problems() -> None:
    payload = {
        "content": "c" * 2000,
        "embeds": [
            {"title": "t" * 256, "description": "d" * 3000, "fields": [{"name": "n", "value": "v" * 1024}]}
        ],
        "components": [
            {"type": 1, "components": [{"type": 2, "label": "l" * 80, "custom_id": "i" * 100}] * 5}
        ]
        * 5,
    }
    assert message_problems(payload) == []


def test_each_field_over_its_limit_is_named() -> None:
    payload = {
        "content": "c" * 2001,
        "embeds": [
            {
                "title": "t" * 257,
                "description": "d" * 4097,
                "fields": [{"name": "n" * 257, "value": "v" * 1025}],
                "footer": {"text": "f" * 2049},
                "author": {"name": "a" * 257},
            }
        ],
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "label": "l" * 81, "custom_id": "i" * 101}]
                + [{"type": 2, "label": "ok", "custom_id": "fine"}] * 5,
            }
        ],
    }
    problems = message_problems(payload)
    named = {problem.split(":")[0] for problem in problems}
    assert {
        "content",
        "embeds.0.title",
        "embeds.0.description",
        "embeds.0.fields.0.name",
        "embeds.0.fields.0.value",
        "embeds.0.footer.text",
        "embeds.0.author.name",
        "components.0.components",
        "components.0.components.0.label",
        "components.0.components.0.custom_id",
        "embeds",  # 257 + 4097 + 257 + 1025 + 2049 + 257 characters across the embeds: over 6,000
    } == named


def test_counts_of_embeds_rows_and_options_are_limited() -> None:
    many = {
        "embeds": [{"title": "t"}] * 11,
        "components": [{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": [{}] * 26}]}] * 6,
    }
    named = {problem.split(":")[0] for problem in message_problems(many)}
    assert {"embeds", "components", "components.0.components.0.options"} <= named


def test_components_v2_messages_are_not_held_to_action_row_rules() -> None:
    rows = [{"type": 1, "components": [{"type": 2, "label": "x", "custom_id": "y"}]}] * 6
    assert message_problems({"components": rows})
    assert message_problems({"components": rows, "flags": IS_COMPONENTS_V2}) == []


async def test_an_overlong_message_is_refused_with_discords_error(
    sandbox: SandboxServer, art_bot: ArtBot
) -> None:
    channel = art_bot.get_channel(sandbox.channel_id)
    assert isinstance(channel, discord.TextChannel)
    before = len(sandbox.messages())
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send("x" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    assert "content: Must be 2000 or fewer in length." in refused.value.text
    assert len(sandbox.messages()) == before
    sent = await channel.send("x" * 2000)
    assert sandbox.messages()[-1]["id"] == str(sent.id)


async def test_an_overlong_edit_or_embed_is_refused_and_the_message_kept(
    sandbox: SandboxServer, art_bot: ArtBot
) -> None:
    channel = art_bot.get_channel(sandbox.channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("a short message")
    with pytest.raises(discord.HTTPException) as refused:
        await sent.edit(content="y" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    with pytest.raises(discord.HTTPException) as too_big:
        await channel.send(embed=discord.Embed(description="d" * 4097))
    assert "embeds.0.description" in too_big.value.text
    assert sandbox.messages()[-1]["content"] == "a short message"
