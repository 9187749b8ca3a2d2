"""Delivery without a worker: jobs stay queued until cancelled, which finishes them deterministically."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.delivery.target import DiscordTarget
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.e2e.test_commands import custom_ids, final_reply, job_of
from tests.polling import wait_until


async def queued_job(sandbox: SandboxServer, prompt: str = "snow drifts") -> tuple[Any, str]:
    handle = await sandbox.send_slash_command("write", {"prompt": prompt, "length": 4})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    return handle, job_of(queued)


def channel_posts(sandbox: SandboxServer) -> list[Any]:
    return [m for m in sandbox.stored_messages(sandbox.channel_id) if m.interaction_id is None]


async def test_expired_token_falls_back_to_a_channel_post_with_one_mention(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    _, job_id = await queued_job(sandbox)
    sandbox.rules.token_ttl = 0.0  # Discord now answers 401 / 50027 on the interaction webhook
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record)

    (post,) = [m for m in channel_posts(sandbox) if f"<@{sandbox.member_id}>" in m.data.get("content", "")]
    assert post.allowed_mentions is not None
    assert [str(u) for u in post.allowed_mentions.get("users", [])] == [str(sandbox.member_id)]
    assert not post.allowed_mentions.get("parse")
    assert "Cancelled" in post.data["embeds"][0]["description"]
    assert any(i.startswith("atelier:reroll:") for i in custom_ids(post.data))
    assert any(r.status == 401 for r in sandbox.requests_to("PATCH /webhooks/*"))
    done = await bot.runtime.jobs.get(job_id)
    assert done is not None and done.status is JobStatus.DELIVERED


async def test_a_token_older_than_15_minutes_is_not_even_tried(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await queued_job(sandbox)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None
    target = DiscordTarget.from_dict(record.delivery_target)
    assert target is not None and target.message_id == handle.original_message_id
    old = DiscordTarget(**{**target.__dict__, "created_at": time.time() - 16 * 60})
    await bot.runtime.jobs.set_delivery_target(job_id, old.to_dict())
    patches_before = len(sandbox.requests_to("PATCH /webhooks/*"))
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record)
    assert len(sandbox.requests_to("PATCH /webhooks/*")) == patches_before
    post = channel_posts(sandbox)[-1]
    assert str(post.data["message_reference"]["message_id"]) == str(handle.original_message_id)


async def test_a_server_error_is_retried_and_delivered_once(bot: AtelierBot, sandbox: SandboxServer) -> None:
    handle, job_id = await queued_job(sandbox)
    sandbox.inject_failures("PATCH /webhooks/*", 500, count=1)
    cancel = await sandbox.send_slash_command("jobs", {"action": "cancel", "job": job_id})
    await sandbox.wait_for_response(cancel, 3)
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    assert record.outcome is JobStatus.CANCELLED
    final = await final_reply(sandbox, handle.original_message_id, 5)
    assert "Cancelled" in final["embeds"][0]["description"]
    statuses = [r.status for r in sandbox.requests_to(f"PATCH /webhooks/*/{handle.token}/messages/*")]
    assert statuses[-2:] == [500, 200]
    assert await bot.deliverer.deliver(record) is False  # already delivered: never twice


async def test_a_failed_delivery_stays_undelivered_and_is_retried(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await queued_job(sandbox)
    sandbox.inject_failures("PATCH /webhooks/*", 400, count=1)
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record) is False
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and record.status is JobStatus.CANCELLED and record.delivered_at is None
    assert await bot.deliverer.deliver_backlog() == 1
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and record.status is JobStatus.DELIVERED
    message = sandbox.core.messages.get(handle.original_message_id or 0)
    assert message is not None and "Cancelled" in str(message.data)


async def test_delete_button_only_for_the_author(bot: AtelierBot, sandbox: SandboxServer) -> None:
    handle, job_id = await queued_job(sandbox)
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record)
    final = await final_reply(sandbox, handle.original_message_id, 5)
    stranger = sandbox.world.add_user("stranger")
    sandbox.world.add_member(sandbox.guild_id, stranger)
    refused = await sandbox.click_button(final, f"atelier:delete:{job_id}", user=stranger)
    await sandbox.wait_for_response(refused, 3)
    assert "Only the member" in (refused.response_data or {})["content"]
    assert sandbox.core.messages.get(int(final["id"])) is not None
    click = await sandbox.click_button(final, f"atelier:delete:{job_id}")
    await sandbox.wait_for_response(click, 3)
    await wait_until(lambda: sandbox.core.messages.get(int(final["id"])) is None, 5)


async def test_a_rate_limited_edit_is_retried(bot: AtelierBot, sandbox: SandboxServer) -> None:
    handle, job_id = await queued_job(sandbox)
    sandbox.rate_limit("PATCH /webhooks/*", 0.3, count=1)
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record)
    statuses = [r.status for r in sandbox.requests_to(f"PATCH /webhooks/*/{handle.token}/messages/*")]
    assert statuses[-2:] == [429, 200]


async def test_an_unexpected_error_is_logged_with_the_job_id_and_explained_privately(
    bot: AtelierBot, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.runtime.service, "submit", broken)
    handle = await sandbox.send_slash_command("write", {"prompt": "hello"})
    await sandbox.wait_for_response(handle, 3)
    answer = await sandbox.wait_for_message(lambda m: "went wrong" in m.get("content", ""), 5)
    assert answer["flags"] & 64 and str(handle.id) in answer["content"]
    assert (
        sandbox.core.messages.get(handle.original_message_id or 0) is None
        or int(answer["id"]) == handle.original_message_id
    )
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR" and "failed" in r.getMessage()]
    assert (
        "/write" in logged.getMessage() and logged.exc_info and "database on fire" in str(logged.exc_info[1])
    )
    job_ids = [w for w in logged.getMessage().split() if len(w.strip(",)")) == 32]
    assert job_ids, logged.getMessage()


async def test_a_target_without_a_message_id_edits_the_original_reply(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await queued_job(sandbox)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and record.delivery_target is not None
    await bot.runtime.jobs.set_delivery_target(job_id, {**record.delivery_target, "message_id": None})
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record)
    final = await final_reply(sandbox, handle.original_message_id, 5)
    assert "Cancelled" in final["embeds"][0]["description"]
