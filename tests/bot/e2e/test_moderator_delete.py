"""A moderator deletes any member's result: the message and its files go, and the deletion is audited."""

from __future__ import annotations

import discord
import pytest

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.e2e.test_approval import custom_ids, publish_result
from tests.polling import wait_until
from wire.artifacts import ArtifactNotFound, make_store


async def entry_of(bot: AtelierBot, sandbox: SandboxServer) -> bool:
    entries = await bot.services.audit.recent(sandbox.guild_id)
    return bool(entries) and entries[0].action == "result.deleted"


async def test_a_moderator_deletes_a_members_result_and_its_files(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    author = sandbox.world.add_user("author")
    sandbox.world.add_member(sandbox.guild_id, author)
    handle = await sandbox.send_slash_command("imagine", {"prompt": "a red kite"}, user=author)
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    publish_result(bot, job_id)
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    key = record.artifacts[0].key
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == int(queued["id"]) and f"atelier:delete:{job_id}" in custom_ids(m), 10
    )
    moderator = sandbox.world.add_user("moderator")
    sandbox.world.add_member(sandbox.guild_id, moderator)
    role = await sandbox.create_role("mods", discord.Permissions(manage_messages=True).value)
    sandbox.world.give_role(sandbox.guild_id, moderator, role)
    click = await sandbox.click_button(final, f"atelier:delete:{job_id}", user=moderator)
    await sandbox.wait_for_response(click, 5)
    await wait_until(lambda: all(int(m["id"]) != int(queued["id"]) for m in sandbox.messages()), 10)
    await wait_until(lambda: entry_of(bot, sandbox), 10)
    with pytest.raises(ArtifactNotFound):
        make_store(bot.settings).get(key)
    assert (await bot.services.jobs.get(job_id)).artifacts == ()  # type: ignore[union-attr]
    entry = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (entry.action, entry.actor_id, entry.key) == ("result.deleted", moderator, job_id)
