"""A result already sent to Discord is recorded as delivered even if the database is away for a moment
(found by `make chaos`: a PostgreSQL restart right after the send left the claim to lapse, and the
result was sent again five minutes later)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.components import ResultButtons
from bot.delivery import deliverer as deliverer_module
from bot.delivery.deliverer import Deliverer
from bot.runtime import Runtime
from wire.contract import JobResult, Outcome, ResultEvent, TextJob


async def _finished_and_claimed(runtime: Runtime) -> str:
    job = TextJob(options={"prompt": "rain on tin"})
    await runtime.service.submit(job)
    result = JobResult(job_id=job.id, status=Outcome.SUCCEEDED, text="drip", worker="w")
    assert await runtime.service.apply_event(ResultEvent(result=result)) is not None
    assert await runtime.jobs.begin_delivery(job.id)
    return job.id


async def test_a_sent_result_is_recorded_once_the_database_is_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await _finished_and_claimed(runtime)
    real = runtime.jobs.finish_delivery
    failures = 2

    async def flaky(job: str) -> Any:
        nonlocal failures
        if failures:
            failures -= 1
            raise OperationalError("UPDATE jobs", {}, ConnectionRefusedError("the database is restarting"))
        return await real(job)

    monkeypatch.setattr(runtime.jobs, "finish_delivery", flaky)
    monkeypatch.setattr(deliverer_module, "RECORD_BACKOFF_S", 0.0)
    deliverer = Deliverer(client=None, runtime=runtime, buttons=ResultButtons())  # type: ignore[arg-type]
    await deliverer._record_delivered(job_id)
    record = await runtime.jobs.get(job_id)
    assert failures == 0 and record is not None and record.delivered_at is not None


async def test_a_database_that_stays_away_is_reported(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await _finished_and_claimed(runtime)

    async def down(job: str) -> Any:
        raise OperationalError("UPDATE jobs", {}, ConnectionRefusedError("down"))

    monkeypatch.setattr(runtime.jobs, "finish_delivery", down)
    monkeypatch.setattr(deliverer_module, "RECORD_BACKOFF_S", 0.0)
    deliverer = Deliverer(client=None, runtime=runtime, buttons=ResultButtons())  # type: ignore[arg-type]
    with pytest.raises(OperationalError):
        await deliverer._record_delivered(job_id)
