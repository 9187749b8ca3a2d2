"""The whole path with real processes: SQLite, a private Redis, a Celery worker subprocess, a tiny real model."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Connection

from bot.db.jobs import CancelOutcome
from bot.db.status import JobStatus
from bot.runtime import Runtime
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor, worker_env
from tests.helpers.gated import GATED_PRESET, WORKER_APP, entered_key, gate_key
from tests.polling import wait_until
from wire import keys
from wire.contract import ErrorCode, JobResult, ResultEvent, StartedEvent, TextJob, new_job_id
from wire.routing import queue_for, task_for

FINISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


def _text(tokens: int = 12, **options: object) -> TextJob:
    return TextJob(
        options={"prompt": "rain on the roof", "kind": "poem", "max_new_tokens": tokens, **options}
    )


async def test_text_job_runs_end_to_end(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    job = _text(seed=7)
    receipt = await runtime.service.submit(job, {"kind": "cli"})
    assert receipt.enqueued and receipt.queue_position >= 1
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 90)
    assert record.status is JobStatus.SUCCEEDED, record.error
    assert record.result is not None and record.result.text
    assert record.started_at is not None and record.finished_at is not None
    assert [a.kind for a in record.artifacts] == ["text"]
    stored = runtime.store.get(record.artifacts[0].key).decode()
    assert record.result.text in stored and "AI-generated with Atelier" in stored
    assert await runtime.jobs.mark_delivered(job.id) is True
    assert await runtime.jobs.mark_delivered(job.id) is False  # never delivered twice


async def test_bad_jobs_fail_with_a_reason_and_the_worker_stays_up(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    worker = start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    unknown = TextJob(options={"prompt": "hello"}, preset="no-such-preset")
    await runtime.service.submit(unknown)
    record = await wait_for(unknown.id, lambda r: r.status in FINISHED)
    assert record.status is JobStatus.FAILED and record.error_code is ErrorCode.INVALID_INPUT
    assert "no-such-preset" in (record.error or "")

    # a malformed payload sent straight to the queue (bypassing the bot's validation)
    bad_id = new_job_id()
    payload = {"modality": "text", "id": bad_id, "options": {"prompt": "x", "max_new_tokens": -5}}
    runtime.celery.send_task(task_for("text"), args=[payload], task_id=bad_id, queue=queue_for("text"))
    stream = runtime.settings.events.stream
    for _ in range(300):
        entries = runtime.redis and await runtime.redis.xrange(stream)
        found = [json.loads(f[b"event"]) for _, f in entries if bad_id.encode() in f[b"event"]]
        if found:
            break
        await __import__("asyncio").sleep(0.1)
    assert found and found[-1]["result"]["error_code"] == "invalid_input"
    assert "options.max_new_tokens" in found[-1]["result"]["error"]

    ok = _text()
    await runtime.service.submit(ok)
    record = await wait_for(ok.id, lambda r: r.status in FINISHED, 90)
    assert record.status is JobStatus.SUCCEEDED
    assert worker.process.poll() is None  # type: ignore[attr-defined]


async def test_cancel_a_queued_job(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    job = _text()
    await runtime.service.submit(job)  # no worker yet: it waits in the queue
    assert await runtime.service.cancel(job.id) is CancelOutcome.CANCELLED
    record = await runtime.jobs.get(job.id)
    assert record is not None and record.status is JobStatus.CANCELLED
    start_worker(runtime.settings, **worker_env(runtime.settings))  # type: ignore[operator]
    follower = _text()
    await runtime.service.submit(follower)
    await wait_for(follower.id, lambda r: r.status in FINISHED, 90)
    stored = await runtime.redis.get(keys.result_key(job.id))
    assert stored is not None and b'"cancelled"' in stored  # the worker skipped it
    assert (await runtime.jobs.get(job.id)).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert await runtime.service.cancel(job.id) is CancelOutcome.ALREADY_FINISHED


async def test_cancel_a_running_job(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    start_worker(runtime.settings, app=WORKER_APP, **worker_env(runtime.settings))  # type: ignore[operator]
    job = TextJob(options={"prompt": "rain on the roof", "kind": "poem"}, preset=GATED_PRESET)
    await runtime.service.submit(job)
    await wait_until(lambda: runtime.redis.get(entered_key(job.id)), 90)  # running, held at the gate
    await wait_for(job.id, lambda r: r.status is JobStatus.RUNNING, 30)
    assert await runtime.service.cancel(job.id) is CancelOutcome.REQUESTED
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 60)
    assert record.status is JobStatus.CANCELLED
    assert record.error_code is ErrorCode.CANCELLED
    assert not await runtime.redis.exists(gate_key(job.id))  # the cancel alone ended it
    assert not record.artifacts


async def test_unknown_job_cancel(runtime: Runtime) -> None:
    assert await runtime.service.cancel(new_job_id()) is CancelOutcome.NOT_FOUND


async def test_a_job_that_starts_and_finishes_in_one_batch_costs_one_write(runtime: Runtime) -> None:
    job = _text()
    await runtime.jobs.create(job)
    statements: list[str] = []

    def trace(connection: Connection, callback: Callable[[str], None] | None) -> None:
        connection.connection.driver_connection.set_trace_callback(callback)  # type: ignore[union-attr]

    # SQLite's own trace: it sees every statement, whether run through SQLAlchemy or directly.
    await runtime.jobs.run(
        lambda connection: trace(connection, lambda sql: statements.append(sql.split()[0].upper()))
    )
    try:
        started = StartedEvent(job_id=job.id, worker="w-1", attempt=2)
        result = JobResult(
            job_id=job.id, status=JobStatus.FAILED, error="x", worker="w-1", started_at=started.at
        )
        records = await runtime.service.apply_events([started, ResultEvent(result=result)])
    finally:
        await runtime.jobs.run(lambda connection: trace(connection, None))
    assert records[0] is None and records[1] is not None
    assert statements.count("UPDATE") == 1
    assert (records[1].status, records[1].attempts, records[1].worker) == (JobStatus.FAILED, 2, "w-1")


async def test_a_result_for_a_job_this_process_submitted_records_the_same_job(runtime: Runtime) -> None:
    job = _text()
    await runtime.service.submit(job, {"kind": "cli"})  # no worker: only its result is applied below
    result = JobResult(job_id=job.id, status=JobStatus.SUCCEEDED, text="rain", worker="w-1")
    (record,) = await runtime.service.apply_events([ResultEvent(result=result)])
    assert record is not None and record.job == job and record.result == result
    assert record == await runtime.jobs.get(job.id)  # what a read of the stored row gives
    assert job.id not in runtime.service._submitted  # forgotten once finished
