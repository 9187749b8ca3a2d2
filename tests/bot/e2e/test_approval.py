"""Approval mode end to end: a result waits in the moderators' channel, reaches the member only when a
moderator approves it, is withheld when one rejects it, and members cannot press the buttons.
Results are published on the real event stream as a worker would (no worker runs here)."""

from __future__ import annotations

from typing import Any

import redis

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from wire.artifacts import make_store
from wire.contract import JobResult, Outcome, ResultEvent
from wire.events import EventPublisher

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


def publish_result(bot: AtelierBot, job_id: str) -> None:
    store = make_store(bot.settings)
    ref = store.put(job_id, "image.png", "image/png", "image", PNG)
    events = EventPublisher(redis.Redis.from_url(bot.settings.redis_url), bot.settings.events.stream, 1000)
    events.publish(
        ResultEvent(result=JobResult(job_id=job_id, status=Outcome.SUCCEEDED, artifacts=(ref,), worker="w"))
    )


async def ask(sandbox: SandboxServer, name: str, options: dict[str, Any], **kw: Any) -> Any:
    handle = await sandbox.send_slash_command(name, options, **kw)
    await sandbox.wait_for_response(handle, 5)
    return handle


async def turn_on_approval(sandbox: SandboxServer) -> int:
    mods = await sandbox.create_channel("mod-queue")
    handle = await ask(sandbox, "config approval", {"enabled": True, "channel": str(mods)})
    assert "Saved" in (handle.response_data or {})["content"]
    return mods


async def submit(sandbox: SandboxServer, prompt: str) -> tuple[Any, str]:
    handle = await ask(sandbox, "imagine", {"prompt": prompt})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    return handle, custom_ids(queued)[0].rsplit(":", 1)[1]


async def test_an_approved_result_reaches_the_member_only_after_approval(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    mods = await turn_on_approval(sandbox)
    handle, job_id = await submit(sandbox, "a lighthouse at dusk")
    publish_result(bot, job_id)
    held = await sandbox.wait_for_message(
        lambda m: int(m["channel_id"]) == mods and f"atelier:approved:{job_id}" in custom_ids(m), 15
    )
    assert held["attachments"] and f"atelier:rejected:{job_id}" in custom_ids(held)
    assert (await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.HELD, 10)).hold is not None
    waiting = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and "moderator" in str(m["embeds"]), 10
    )
    assert not waiting["attachments"]  # nothing of the result yet

    member = sandbox.world.add_user("member")
    sandbox.world.add_member(sandbox.guild_id, member)
    pressed = await sandbox.click_button(held, f"atelier:approved:{job_id}", user=member)
    await sandbox.wait_for_response(pressed, 5)
    assert "Manage Messages" in (pressed.response_data or {})["content"]
    assert (await bot.services.jobs.get(job_id)).status is JobStatus.HELD  # type: ignore[union-attr]

    approved = await sandbox.click_button(held, f"atelier:approved:{job_id}")
    await sandbox.wait_for_response(approved, 5)
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    assert record.hold is not None and record.hold["decision"] == "approved"
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m["attachments"]), 10
    )
    assert f"atelier:delete:{job_id}" in custom_ids(final)
    actions = [e.action for e in await bot.services.audit.recent(sandbox.guild_id)]
    assert "approval.approved" in actions and "permission.refused" in actions
    decided = await sandbox.wait_for_message(lambda m: m["id"] == held["id"] and not custom_ids(m), 5)
    assert "Approved by" in decided["content"]  # the buttons are gone: it cannot be decided twice


async def test_a_rejected_result_is_withheld_with_a_reason(bot: AtelierBot, sandbox: SandboxServer) -> None:
    mods = await turn_on_approval(sandbox)
    handle, job_id = await submit(sandbox, "a stormy sea")
    publish_result(bot, job_id)
    held = await sandbox.wait_for_message(
        lambda m: int(m["channel_id"]) == mods and f"atelier:rejected:{job_id}" in custom_ids(m), 15
    )
    rejected = await sandbox.click_button(held, f"atelier:rejected:{job_id}")
    await sandbox.wait_for_response(rejected, 5)
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    assert record.hold is not None and record.hold["decision"] == "rejected"
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and "did not approve" in str(m["embeds"]),
        10,
    )
    assert not final["attachments"]


async def test_without_approval_mode_results_go_straight_to_the_member(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await submit(sandbox, "a quiet meadow")
    publish_result(bot, job_id)
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m["attachments"]), 15
    )
    assert final["embeds"][0]["image"]["url"].startswith("attachment://") or final["attachments"]
    assert all(f"atelier:approved:{job_id}" not in custom_ids(m.data) for m in sandbox.stored_messages())
