"""A result whose files Discord refuses as too large (413) is sent once more without them, naming them,
instead of being retried unchanged for ever."""

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


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


async def test_files_refused_as_too_large_are_named_and_the_rest_is_delivered(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle = await sandbox.send_slash_command("imagine", {"prompt": "a tall ship"})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    sandbox.inject_failures("PATCH /webhooks/*", status=413, count=1)
    ref = make_store(bot.settings).put(
        job_id, "ship.png", "image/png", "image", b"\x89PNG\r\n\x1a\n" + b"\0" * 5000
    )
    events = EventPublisher(redis.Redis.from_url(bot.settings.redis_url), bot.settings.events.stream, 1000)
    events.publish(
        ResultEvent(result=JobResult(job_id=job_id, status=Outcome.SUCCEEDED, artifacts=(ref,), worker="w"))
    )
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    assert record.delivered_at is not None
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == int(queued["id"]) and f"atelier:delete:{job_id}" in custom_ids(m), 10
    )
    assert not final["attachments"] and "ship.png" in str(final["embeds"])
