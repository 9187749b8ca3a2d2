"""A bot that claimed a delivery and died before sending it: the result is sent once the lease lapses."""

from __future__ import annotations

import asyncio

from bot.db.status import JobStatus
from bot.runtime import open_runtime
from tests.bot.e2e.conftest import BotControl, wait_for_job
from tests.bot.e2e.test_commands import final_reply
from tests.bot.e2e.test_restart import wait_for_result_event, write_then_stop_the_bot
from tests.services import WorkerProcess


async def test_a_claim_left_by_a_dead_bot_lapses_and_the_result_is_sent_once(
    bot_control: BotControl, worker: WorkerProcess
) -> None:
    sandbox = bot_control.server
    handle, job_id = await write_then_stop_the_bot(bot_control, "lanterns on the water")

    settings = bot_control.settings
    event = await wait_for_result_event(settings, job_id)
    async with open_runtime(settings) as rt:  # another bot process records the result, claims it, dies
        assert await rt.service.apply_event(event) is not None
        assert await rt.jobs.begin_delivery(job_id)

    bot = await bot_control.start()
    await asyncio.sleep(2)
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and record.status is JobStatus.SUCCEEDED  # the claim still holds
    assert record.delivered_at is None

    bot.deliverer.lease_s = 0.0  # the dead process's lease has run out
    assert await bot.deliverer.deliver_backlog() == 1
    final = await final_reply(sandbox, handle.original_message_id, 30)
    delivered = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert delivered.outcome is JobStatus.SUCCEEDED and final["attachments"]
    assert await bot.deliverer.deliver_backlog() == 0
    with_files = [
        r
        for r in sandbox.requests_to(f"PATCH /webhooks/*/{handle.token}/messages/*")
        if r.files and r.status == 200
    ]
    assert len(with_files) == 1  # sent exactly once
