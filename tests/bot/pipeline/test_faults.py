"""Faults with real processes on PostgreSQL: a worker killed mid-job, a consumer restart, a Redis restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterator

import pytest

from bot.db.status import JobStatus
from bot.pipeline.reconciler import Reconciler
from bot.runtime import Runtime
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor, worker_env
from tests.conftest import _empty_database, _run_isolated
from tests.helpers.gated import GATED_PRESET, WORKER_APP, entered_key, gate_key
from tests.polling import wait_until
from tests.services import RedisServer
from wire import keys
from wire.contract import TextJob

FINISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}

pytestmark = pytest.mark.postgres


@pytest.fixture
def pipeline_database_url(postgres_session_url: str) -> Iterator[str]:
    """These tests run on the production database engine."""
    yield postgres_session_url
    _run_isolated(_empty_database(postgres_session_url))


def _text(tokens: int) -> TextJob:
    return TextJob(options={"prompt": "wind through pines", "kind": "story", "max_new_tokens": tokens})


async def _is_at_least(count: Awaitable[int], least: int) -> bool:
    return await count >= least


async def _result_events(rt: Runtime, job_id: str) -> list[dict[str, object]]:
    entries = await rt.redis.xrange(rt.settings.events.stream)
    events = [json.loads(fields[b"event"]) for _, fields in entries]
    return [e for e in events if e["type"] == "result" and e["result"]["job_id"] == job_id]


async def test_worker_killed_mid_job_finishes_once(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    worker = start_worker(runtime.settings, app=WORKER_APP, **worker_env(runtime.settings))  # type: ignore[operator]
    job = TextJob(options={"prompt": "wind through pines", "kind": "story"}, preset=GATED_PRESET)
    await runtime.service.submit(job)

    async def entered() -> int:
        return int(await runtime.redis.get(entered_key(job.id)) or 0)

    await wait_until(entered, 120)  # the first attempt is running, held at the gate
    await wait_for(job.id, lambda r: r.status is JobStatus.RUNNING, 30)
    killed = worker.kill_child()  # type: ignore[attr-defined]
    await wait_until(lambda: _is_at_least(entered(), 2), 180)  # the requeued attempt, at the gate too
    assert killed not in worker.children()  # type: ignore[attr-defined]  # a new child runs it
    assert await _result_events(runtime, job.id) == []  # the killed attempt published nothing
    await runtime.redis.set(gate_key(job.id), "1")
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 120)
    assert record.status is JobStatus.SUCCEEDED, record.error
    assert record.result is not None and record.result.text == "Past the gate: wind through pines"
    assert int(await runtime.redis.get(keys.attempts_key(job.id))) == 2  # ran again after the kill
    assert len(await _result_events(runtime, job.id)) == 1  # and finished exactly once
    assert await runtime.jobs.mark_delivered(job.id)
    assert not await runtime.jobs.mark_delivered(job.id)


async def test_events_published_while_the_consumer_is_down_are_applied(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    await consumer.stop()  # the bot goes down
    jobs = [_text(8) for _ in range(3)]
    for job in jobs:
        await runtime.service.submit(job)
    for job in jobs:  # wait for the workers' results on the stream while nobody consumes
        for _ in range(900):
            if await _result_events(runtime, job.id):
                break
            await asyncio.sleep(0.1)
        assert await _result_events(runtime, job.id)
        assert (await runtime.jobs.get(job.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    consumer.start()  # the bot comes back
    for job in jobs:
        record = await wait_for(job.id, lambda r: r.status in FINISHED, 30)
        assert record.status is JobStatus.SUCCEEDED


async def test_redis_restart_with_jobs_queued_is_recovered_by_the_reconciler(
    runtime: Runtime,
    consumer: ConsumerControl,
    start_worker: object,
    wait_for: WaitFor,
    redis_server: RedisServer,
) -> None:
    jobs = [_text(8) for _ in range(3)]
    for job in jobs:
        receipt = await runtime.service.submit(job)  # no worker yet: they wait on the broker
        assert receipt.enqueued
    redis_server.restart()  # the queue (kept only in memory) is gone; the consumer rides it out
    await asyncio.sleep(0.6)  # past queued_grace_s
    report = await Reconciler(runtime.service, runtime.jobs, runtime.settings).run_once()
    assert sorted(report.requeued) == sorted(j.id for j in jobs)
    second = await Reconciler(runtime.service, runtime.jobs, runtime.settings).run_once()
    assert second.requeued == []  # re-enqueued once, not on every pass
    start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    for job in jobs:
        record = await wait_for(job.id, lambda r: r.status in FINISHED, 120)
        assert record.status is JobStatus.SUCCEEDED


async def test_lost_results_are_recovered_from_the_worker_record(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    """A worker finished but the result never reached the database: the reconciler re-applies it."""
    await consumer.stop()
    start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    job = _text(8)
    await runtime.service.submit(job)
    for _ in range(900):
        if await runtime.redis.get(keys.result_key(job.id)):
            break
        await asyncio.sleep(0.1)
    await runtime.redis.delete(runtime.settings.events.stream)  # the stream is lost with its events
    await asyncio.sleep(0.6)
    report = await Reconciler(runtime.service, runtime.jobs, runtime.settings).run_once()
    assert report.recovered_results == [job.id]
    record = await runtime.jobs.get(job.id)
    assert record is not None and record.status is JobStatus.SUCCEEDED


async def test_jobs_that_keep_getting_lost_fail_with_a_reason(
    runtime: Runtime, redis_server: RedisServer
) -> None:
    job = _text(8)
    await runtime.service.submit(job)
    reconciler = Reconciler(runtime.service, runtime.jobs, runtime.settings)
    for _ in range(runtime.settings.reconciler.max_attempts + 1):
        await runtime.redis.delete(keys.enqueued_key(job.id))  # as if the queue were lost each time
        await asyncio.sleep(0.6)
        await reconciler.run_once()
    record = await runtime.jobs.get(job.id)
    assert record is not None and record.status is JobStatus.FAILED
    assert record.error_code is not None and record.error_code.value == "worker_lost"
    assert "giving up" in (record.error or "")
