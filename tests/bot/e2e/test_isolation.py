"""Two servers on one bot: settings, limits, blocked terms, jobs and audit entries stay on their own
server, and a moderator of one cannot reach another's jobs by their ids."""

from __future__ import annotations

from typing import Any

import discord

from bot.app import AtelierBot
from bot.sandbox import SandboxServer
from tests.bot.e2e.test_bad_input import publish_globally
from tests.bot.e2e.test_config import answer as reply


async def answer(sandbox: SandboxServer, name: str, options: dict[str, Any], **kw: Any) -> Any:
    handle = await sandbox.send_slash_command(name, options, **kw)
    await sandbox.wait_for_response(handle, 5)
    return handle


async def test_two_servers_keep_apart(bot: AtelierBot, sandbox: SandboxServer) -> None:
    other = await sandbox.create_guild("Second server")
    publish_globally(sandbox)  # in production the commands are global; here they were synced to one guild
    there = int(sandbox.world.guilds[other].channels[0]["id"])
    await answer(sandbox, "config blocked add", {"term": "kite"})
    await answer(sandbox, "config limits", {"daily": 1})

    first = await answer(sandbox, "write", {"prompt": "a harbour at night"})
    assert first.response_type == 5
    assert "today's" in (await reply(sandbox, "write", {"prompt": "again"}))["content"]
    assert (
        "blocked" in ((await answer(sandbox, "imagine", {"prompt": "a kite"})).response_data or {})["content"]
    )

    elsewhere = [await answer(sandbox, "write", {"prompt": f"poem {n}"}, channel=there) for n in range(3)]
    assert [h.response_type for h in elsewhere] == [5, 5, 5]  # no limit there
    assert (await answer(sandbox, "imagine", {"prompt": "a kite"}, channel=there)).response_type == 5

    mine_here = await bot.services.jobs.list_for_user(sandbox.member_id, guild_id=sandbox.guild_id)
    mine_there = await bot.services.jobs.list_for_user(sandbox.member_id, guild_id=other)
    assert len(mine_here) == 1 and len(mine_there) == 4
    listing = await answer(sandbox, "jobs", {"action": "list"}, channel=there)
    assert mine_here[0].id[:8] not in str((listing.response_data or {})["embeds"])

    moderator = sandbox.world.add_user("moderator")
    sandbox.world.add_member(other, moderator)
    role = await sandbox.create_role("mods", discord.Permissions(manage_messages=True).value, guild_id=other)
    sandbox.world.give_role(other, moderator, role)
    peek = await answer(
        sandbox, "jobs", {"action": "status", "job": mine_here[0].id}, user=moderator, channel=there
    )
    assert "can't find" in (peek.response_data or {})["content"]
    cancel = await answer(
        sandbox, "jobs", {"action": "cancel", "job": mine_here[0].id}, user=moderator, channel=there
    )
    assert "can't find" in (cancel.response_data or {})["content"]

    assert (await bot.services.guilds.get(other)).blocked_terms == ()
    assert all(e.guild_id == sandbox.guild_id for e in await bot.services.audit.recent(sandbox.guild_id))
    assert await bot.services.audit.recent(other) == []
