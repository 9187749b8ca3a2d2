"""/config end to end, through the local Discord server and the real bot: every change is applied,
audited and enforced on the next command; members cannot reach it; servers stay apart.
No worker runs in this module: jobs stay queued, so what admission decides is what the test sees."""

from __future__ import annotations

import asyncio
import tomllib
from typing import Any

import aiohttp
import discord

from bot.app import AtelierBot
from bot.sandbox import SandboxServer

EPHEMERAL = 64


async def answer(
    sandbox: SandboxServer, name: str, options: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    handle = await sandbox.send_slash_command(name, options or {}, **kw)
    await sandbox.wait_for_response(handle, 5)
    if handle.response_type == 5:  # deferred: the answer is the edited reply or a follow-up
        message = await sandbox.wait_for_message(
            lambda m: (
                int(m["id"]) in {handle.original_message_id, *handle.followup_ids}
                and bool(m.get("content") or m.get("embeds"))
            ),
            10,
        )
        return message
    return handle.response_data or {}


def text_of(reply: dict[str, Any]) -> str:
    parts = [reply.get("content") or ""]
    for embed in reply.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def member(sandbox: SandboxServer, name: str, guild: int | None = None) -> int:
    user = sandbox.world.add_user(name)
    sandbox.world.add_member(guild or sandbox.guild_id, user)
    return user


async def test_the_group_is_for_moderators_and_a_crafted_call_is_refused_and_audited(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    config = next(c for c in sandbox.commands(sandbox.guild_id) if c["name"] == "config")
    assert int(config["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    someone = member(sandbox, "someone")
    refused = await answer(sandbox, "config safety", {"level": "relaxed"}, user=someone)
    assert refused["flags"] & EPHEMERAL and "Manage Guild" in refused["content"]
    assert (await bot.services.guilds.get(sandbox.guild_id)).safety == "standard"
    entries = await bot.services.audit.recent(sandbox.guild_id)
    assert [(e.action, e.actor_id, e.key) for e in entries] == [
        ("permission.refused", someone, "config safety")
    ]

    moderator = member(sandbox, "moderator")
    role = await sandbox.create_role("mods", discord.Permissions(manage_guild=True).value)
    sandbox.world.give_role(sandbox.guild_id, moderator, role)
    saved = await answer(sandbox, "config safety", {"level": "strict"}, user=moderator)
    assert "Saved" in saved["content"]
    latest = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (latest.action, latest.actor_id, latest.key, latest.old, latest.new) == (
        "config.set",
        moderator,
        "safety",
        "standard",
        "strict",
    )


async def test_switched_off_commands_and_channels_are_enforced_privately(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    assert (
        "Saved"
        in (await answer(sandbox, "config modality", {"modality": "image", "enabled": False}))["content"]
    )
    off = await answer(sandbox, "imagine", {"prompt": "a lighthouse at dusk"})
    assert off["flags"] & EPHEMERAL and "switched off" in off["content"]

    other = await sandbox.create_channel("writing")
    allowed = await answer(
        sandbox, "config channel", {"command": "text", "action": "allow", "channel": str(other)}
    )
    assert "Saved" in allowed["content"]
    elsewhere = await answer(sandbox, "write", {"prompt": "rain", "length": 4})
    assert elsewhere["flags"] & EPHEMERAL and f"<#{other}>" in elsewhere["content"]
    there = await sandbox.send_slash_command("write", {"prompt": "rain", "length": 4}, channel=other)
    await sandbox.wait_for_response(there, 5)
    assert there.response_type == 5  # deferred: it was taken
    shown = text_of(await answer(sandbox, "config show"))
    assert "`/imagine` **off**" in shown and f"<#{other}>" in shown


async def test_a_daily_limit_is_enforced_with_when_it_resets(bot: AtelierBot, sandbox: SandboxServer) -> None:
    assert "Saved" in (await answer(sandbox, "config limits", {"daily": 1}))["content"]
    first = await sandbox.send_slash_command("write", {"prompt": "one", "length": 4})
    await sandbox.wait_for_response(first, 5)
    second = await answer(sandbox, "write", {"prompt": "two", "length": 4})
    assert "today's **1** jobs" in second["content"] and "<t:" in second["content"]
    assert second["flags"] & EPHEMERAL
    over = await answer(sandbox, "config limits", {"daily": 5000})
    assert "operator caps it at **1000**" in over["content"]


async def test_simultaneous_requests_from_one_member_cannot_pass_the_limit(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    await answer(sandbox, "config limits", {"concurrent": 2})
    handles = await asyncio.gather(
        *(sandbox.send_slash_command("write", {"prompt": f"burst {n}", "length": 4}) for n in range(12))
    )
    await asyncio.gather(*(sandbox.wait_for_response(h, 5) for h in handles))
    await asyncio.sleep(1.0)  # let every refusal's follow-up land
    jobs = await bot.services.jobs.list_for_user(sandbox.member_id, limit=50)
    assert len(jobs) == 2


async def test_export_and_import_round_trip_and_bad_files_change_nothing(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    await answer(sandbox, "config blocked add", {"term": "lighthouse, harbour"})
    handle = await sandbox.send_slash_command("config export")
    await sandbox.wait_for_response(handle, 5)
    exported = await sandbox.wait_for_message(lambda m: int(m["id"]) == (handle.original_message_id or 0), 5)
    async with aiohttp.ClientSession() as http, http.get(exported["attachments"][0]["url"]) as response:
        raw = await response.read()
    document = tomllib.loads(raw.decode())
    assert document["blocked_terms"] == ["lighthouse", "harbour"] and document["safety"] == "standard"

    edited = raw.decode().replace('safety = "standard"', 'safety = "strict"').encode()
    imported = await answer(
        sandbox, "config import", attachments={"file": ("atelier.toml", edited, "text/plain")}
    )
    assert "`safety`" in imported["content"]
    assert (await bot.services.guilds.get(sandbox.guild_id)).safety == "strict"

    for bad, where in (
        (b"safety = [", "(file)"),
        (b'safety = "lenient"', "safety"),
        (b"queue_cap = 999999", "queue_cap"),
        (b'colour = "red"', "colour"),
    ):
        refused = await answer(
            sandbox, "config import", attachments={"file": ("bad.toml", bad, "text/plain")}
        )
        assert "Nothing was imported" in refused["content"] and f"`{where}`" in refused["content"], refused
    after = await bot.services.guilds.get(sandbox.guild_id)
    assert after.safety == "strict" and after.blocked_terms == ("lighthouse", "harbour")


async def test_barred_members_are_refused_and_servers_stay_apart(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    other_guild = await sandbox.create_guild("Another server")
    bob = member(sandbox, "bob")
    sandbox.world.add_member(other_guild, bob)
    assert "Saved" in (await answer(sandbox, "config bar", {"member": str(bob)}))["content"]
    barred = await answer(sandbox, "write", {"prompt": "hello", "length": 4}, user=bob)
    assert barred["flags"] & EPHEMERAL and "can't use Atelier on this server" in barred["content"]
    assert await bot.services.jobs.list_for_user(bob) == []
    assert (await bot.services.guilds.get(other_guild)).barred == ()
    assert (await bot.services.audit.recent(other_guild)) == []


async def test_an_unknown_preset_is_refused_before_anything_is_queued(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    refused = await answer(sandbox, "write", {"prompt": "rain", "preset": "nope"})
    assert refused["flags"] & EPHEMERAL and "no preset called **nope**" in refused["content"]
    assert await bot.services.jobs.list_for_user(sandbox.member_id) == []
