"""A result whose channel is gone or closed to the bot ends its delivery with a reason, once."""

from __future__ import annotations

import pytest

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.delivery.undeliverable import reason_of
from bot.sandbox import SandboxServer


@pytest.mark.parametrize(
    ("close", "status", "code", "reason"),
    [
        ("delete", 404, 10003, "undeliverable.unknown_channel"),
        ("hide", 403, 50001, "undeliverable.missing_access"),
    ],
)
async def test_a_gone_or_closed_channel_ends_delivery_with_its_reason(
    bot: AtelierBot, sandbox: SandboxServer, close: str, status: int, code: int, reason: str
) -> None:
    channel_id = await sandbox.create_channel("studio")
    handle = await sandbox.send_slash_command("write", {"prompt": "snow", "length": 4}, channel=channel_id)
    await sandbox.wait_for_response(handle, 10)
    job_id = (await bot.runtime.jobs.list_recent(1))[0].id
    sandbox.rules.token_ttl = 0.0  # the reply cannot be edited: delivery posts in the channel
    if close == "delete":
        await sandbox.delete_channel(channel_id)
    else:
        sandbox.close_channel(channel_id)
    await bot.runtime.service.cancel(job_id)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and await bot.deliverer.deliver(record) is False
    posts = sandbox.requests_to(f"POST /channels/{channel_id}/messages")
    assert [r.status for r in posts] == [status]
    ended = await bot.runtime.jobs.get(job_id)
    assert ended is not None and ended.delivered_at is not None
    assert ended.status is JobStatus.CANCELLED  # the outcome stays; it was not delivered
    assert reason_of(ended.delivery_target) == reason
    assert ended.delivery_target is not None and ended.delivery_target["undeliverable"]["code"] == code
    assert await bot.deliverer.deliver_backlog() == 0  # not tried again
    assert len(sandbox.requests_to(f"POST /channels/{channel_id}/messages")) == 1
