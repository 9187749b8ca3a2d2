"""A result that arrives while the bot is down is delivered once when it comes back (on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.db.status import JobStatus
from bot.sandbox import InteractionHandle
from config.settings import Settings
from tests.bot.e2e.conftest import BotControl, wait_for_job
from tests.bot.e2e.test_commands import custom_ids, final_reply, job_of
from tests.conftest import _empty_database, _run_isolated
from tests.polling import wait_until
from tests.services import WorkerProcess
from wire.contract import ResultEvent, parse_event

pytestmark = pytest.mark.postgres


@pytest.fixture
def e2e_database_url(postgres_session_url: str) -> Iterator[str]:
    """The production database engine, emptied afterwards."""
    yield postgres_session_url
    _run_isolated(_empty_database(postgres_session_url))


async def result_event(client: aioredis.Redis, stream: str, job_id: str) -> ResultEvent | None:
    """The job's result event on the stream, if a worker has published it."""
    entries: Any = await client.xrange(stream)
    for _, fields in entries:
        event = parse_event(fields[b"event"])
        if isinstance(event, ResultEvent) and event.result.job_id == job_id:
            return event
    return None


async def wait_for_result_event(settings: Settings, job_id: str, timeout: float = 120) -> ResultEvent:
    """Wait until a worker has published the job's result (whether or not a bot has read it)."""
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        event: ResultEvent = await wait_until(
            lambda: result_event(client, settings.events.stream, job_id), timeout
        )
    finally:
        await client.aclose()
    return event


async def write_then_stop_the_bot(bot_control: BotControl, prompt: str) -> tuple[InteractionHandle, str]:
    """Start the bot, ask /write for `prompt`, wait for the queued reply, stop the bot: (handle, job id)."""
    sandbox = bot_control.server
    await bot_control.start()
    handle = await sandbox.send_slash_command("write", {"prompt": prompt, "length": 400})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    await bot_control.stop()
    return handle, job_of(queued)


async def test_result_published_while_the_bot_is_down_is_delivered_once_after_restart(
    bot_control: BotControl, worker: WorkerProcess
) -> None:
    sandbox = bot_control.server
    handle, job_id = await write_then_stop_the_bot(bot_control, "river runs cold")

    await wait_for_result_event(bot_control.settings, job_id)
    assert not any(i.startswith("atelier:delete:") for i in custom_ids(sandbox.messages()[-1]))

    bot = await bot_control.start()
    final = await final_reply(sandbox, handle.original_message_id, 30)
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED and final["attachments"]
    await bot.deliverer.drain(2)
    await bot.deliverer.deliver_backlog()
    with_files = [
        r
        for r in sandbox.requests_to(f"PATCH /webhooks/*/{handle.token}/messages/*")
        if r.files and r.status == 200
    ]
    assert len(with_files) == 1  # delivered exactly once
