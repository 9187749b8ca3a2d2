"""/jobs without a worker: jobs stay queued, so listing, status and cancel are deterministic."""

from __future__ import annotations

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.e2e.test_commands import EPHEMERAL, custom_ids, final_reply, job_of


async def test_jobs_lists_and_shows_my_jobs(bot: AtelierBot, sandbox: SandboxServer) -> None:
    empty = await sandbox.send_slash_command("jobs")
    await sandbox.wait_for_response(empty, 3)
    assert "no jobs" in (empty.response_data or {})["content"]
    handle = await sandbox.send_slash_command(
        "write", {"prompt": "stars wake", "length": 4}
    )  # no worker: stays queued
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = job_of(queued)
    assert "number **1**" in queued["embeds"][0]["description"]

    listing = await sandbox.send_slash_command("jobs", {"action": "list"})
    await sandbox.wait_for_response(listing, 3)
    data = listing.response_data or {}
    assert data["flags"] & EPHEMERAL and job_id[:8] in data["embeds"][0]["description"]

    status = await sandbox.send_slash_command("jobs", {"action": "status", "job": job_id[:8]})
    await sandbox.wait_for_response(status, 3)
    assert job_id in (status.response_data or {})["embeds"][0]["title"]

    cancel = await sandbox.send_slash_command("jobs", {"action": "cancel", "job": job_id})
    await sandbox.wait_for_response(cancel, 3)
    assert "Cancelled before it started" in (cancel.response_data or {})["content"]
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.CANCELLED
    final = await final_reply(sandbox, handle.original_message_id, 10)
    assert "Cancelled" in final["embeds"][0]["description"]

    stranger = sandbox.world.add_user("stranger")
    sandbox.world.add_member(sandbox.guild_id, stranger)
    other = await sandbox.send_slash_command("jobs", {"action": "status", "job": job_id}, user=stranger)
    await sandbox.wait_for_response(other, 3)
    assert "can't find" in (other.response_data or {})["content"]


async def test_autocomplete_offers_my_job_ids_and_the_presets(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "bell rings", "length": 4})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = job_of(queued)
    jobs = await sandbox.send_autocomplete("jobs", {"action": "status", "job": job_id[:3]}, focused="job")
    await sandbox.wait_for_response(jobs, 3)
    assert jobs.response_type == 8
    assert [c["value"] for c in (jobs.response_data or {})["choices"]] == [job_id]

    presets = await sandbox.send_autocomplete("write", {"prompt": "x", "preset": "TI"}, focused="preset")
    await sandbox.wait_for_response(presets, 3)
    assert [c["value"] for c in (presets.response_data or {})["choices"]] == ["tiny"]


async def test_a_chinese_client_gets_chinese_replies_and_buttons(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "月亮", "length": 4}, locale="zh-CN")
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    assert "已排队" in queued["embeds"][0]["description"]
    assert queued["components"][0]["components"][0]["label"] == "取消"
    cancel = await sandbox.send_slash_command(
        "jobs", {"action": "cancel", "job": job_of(queued)}, locale="zh-CN"
    )
    await sandbox.wait_for_response(cancel, 3)
    assert (cancel.response_data or {})["content"] == "已在开始前取消。"
    final = await final_reply(sandbox, handle.original_message_id, 10)
    assert final["embeds"][0]["description"] == "已取消。"
    assert [c["label"] for c in final["components"][0]["components"]] == ["重新生成", "删除"]


async def test_instrument_autocomplete_finds_general_midi_names(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    # Discord sends the typed text ("fidd") as the focused value; the sandbox only passes integers through
    handle = await sandbox.send_autocomplete("compose", {"instrument": 11}, focused="instrument")
    await sandbox.wait_for_response(handle, 3)
    choices = (handle.response_data or {})["choices"]
    assert choices[0] == {"name": "11 · Vibraphone", "value": 11}
    assert [c["value"] for c in choices] == [11, *range(110, 120)]
