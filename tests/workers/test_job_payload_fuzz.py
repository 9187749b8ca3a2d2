"""Fuzz: whatever arrives on a worker's queue as a job — any JSON, JSON text, real jobs with a wrong type,
a value out of range, an unknown or missing field, a huge string, a bad id — the worker answers with a
failed result coded `invalid_input` (when the payload carries a job id to answer to), never raises out of
its task, never leaves a lock or a started job without a result, and publishes only events the bot can
read. First through the registered tasks in this process (many examples), then through a real Celery
worker process, which must still be the same process with the same pool child afterwards."""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from config.settings import BatchSettings, Settings, load_settings
from tests.conftest import settings_env
from tests.helpers.fuzz import examples
from tests.services import RedisServer, WorkerProcess
from tests.workers.payloads import base_job, payloads
from wire import keys
from wire.broker import create_producer
from wire.contract import (
    MODALITIES,
    ContractError,
    ErrorCode,
    Outcome,
    ResultEvent,
    StartedEvent,
    parse_event,
    parse_job,
)
from wire.routing import queue_for, task_for
from workers.app import WorkerApp, create_worker_app

Events = list[tuple[str, Any]]


def events_after(client: redis.Redis, stream: str, last: str) -> tuple[Events, str]:
    """The events published after entry `last` (each parsed as the bot parses them), and the newest id."""
    entries: Any = client.xrange(stream, min=f"({last}", max="+")
    found: Events = []
    for entry_id, fields in entries:
        found.append((entry_id.decode(), parse_event(fields[b"event"])))
        last = entry_id.decode()
    return found, last


ANY_ID = "(a fresh id)"
"""A valid job that names no id gets a fresh one from the contract's default (reported, not changed here)."""


def answer_id(payload: Any) -> str | None:
    """The job id a worker can answer a payload to: a valid job's, or one the bot could have made (32
    lowercase hex characters) on a payload that is otherwise wrong."""
    try:
        job = parse_job(payload)
    except ContractError:
        job_id = payload.get("id") if isinstance(payload, dict) else None
        return job_id if isinstance(job_id, str) and re.fullmatch("[0-9a-f]{32}", job_id) else None
    return job.id if "id" in payload else ANY_ID


def answer_problems(payload: Any, events: Events) -> list[str]:
    """What is wrong with how the worker answered one payload (given the events it published)."""
    job_id = answer_id(payload)
    results = [e.result for _, e in events if isinstance(e, ResultEvent)]
    started = [e.job_id for _, e in events if isinstance(e, StartedEvent)]
    problems = []
    if job_id is None:
        if results or started:
            problems.append(f"events for a payload without a job id: {events}")
        return problems
    if job_id == ANY_ID and results:
        job_id = results[0].job_id
    mine = [r for r in results if r.job_id == job_id]
    if len(mine) != 1:
        problems.append(f"{len(mine)} results for job {job_id!r}: {results}")
    for result in mine:
        if (result.status, result.error_code) != (
            Outcome.FAILED,
            ErrorCode.INVALID_INPUT,
        ) or not result.error:
            problems.append(f"not a clear invalid_input failure: {result}")
    if any(job != job_id for job in started):
        problems.append(f"another job started: {started}")
    return problems


def leftovers(client: redis.Redis, app: WorkerApp) -> list[str]:
    """Half-state: locks still held in Redis, or jobs this process still keeps alive."""
    locks: Any = client.keys(keys.lock_key("*"))
    held = app.services().heartbeats.held()
    return [k.decode() for k in locks] + [f"heartbeat {j}" for j in held]


@pytest.fixture
def worker_app(settings: Settings) -> WorkerApp:
    """The production worker app on this test's Redis, with image batching on (its own entry path)."""
    batching = BatchSettings(max_size=4, max_wait_ms=0)
    return create_worker_app(settings.model_copy(update={"image_batch": batching}))


@pytest.fixture
def plain_app(settings: Settings) -> WorkerApp:
    return create_worker_app(settings)


@examples(400)
@given(payload=payloads(), queue=st.sampled_from(MODALITIES), batching=st.booleans())
def test_any_payload_is_answered_by_the_task_without_half_state(
    payload: Any,
    queue: str,
    batching: bool,
    worker_app: WorkerApp,
    plain_app: WorkerApp,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    app = worker_app if batching and queue == "image" else plain_app
    _, last = events_after(redis_client, settings.events.stream, "0")
    outcome = app.tasks[task_for(queue)].apply(args=[copy.deepcopy(payload)])
    assert outcome.successful(), outcome.traceback
    events, _ = events_after(redis_client, settings.events.stream, last)
    assert answer_problems(payload, events) == []
    assert leftovers(redis_client, app) == []


# --- through a real worker process ------------------------------------------------------------------


@pytest.fixture(scope="module")
def process_settings(redis_server: RedisServer) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return load_settings(redis_url=redis_server.url, events={"stream": f"fuzz:{tag}:events"})


@pytest.fixture(scope="module")
def worker_process(
    process_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    log_path = tmp_path_factory.mktemp("fuzz-worker") / "worker.log"
    queues = ",".join(queue_for(m) for m in (*MODALITIES, "embed"))
    process = WorkerProcess(settings_env(process_settings), queues, log_path)
    process.start(timeout=120)
    yield process
    process.stop()


def wait_for_results(
    client: redis.Redis, stream: str, last: str, job_ids: set[str], timeout: float = 60
) -> Events:
    """Events after `last` until the results of all `job_ids` are among them."""
    deadline = time.monotonic() + timeout
    seen: Events = []
    while time.monotonic() < deadline:
        found, last = events_after(client, stream, last)
        seen += found
        answered = {e.result.job_id for _, e in seen if isinstance(e, ResultEvent)}
        if job_ids <= answered:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no result for the sentinel jobs {job_ids} within {timeout} s")


def _jsonable(payload: Any) -> bool:
    """What a producer can send (kombu writes JSON with escapes: lone surrogates and NaN travel too)."""
    try:
        json.dumps(payload)
    except (TypeError, ValueError):
        return False
    return True


def for_job(events: Events, job_id: str) -> Events:
    """The started and result events of one job."""
    return [
        (entry, event)
        for entry, event in events
        if (isinstance(event, StartedEvent) and event.job_id == job_id)
        or (isinstance(event, ResultEvent) and event.result.job_id == job_id)
    ]


@examples(10, shrink=False)
@given(
    batch=st.lists(
        st.tuples(st.sampled_from([*MODALITIES, "embed"]), payloads().filter(_jsonable)),
        min_size=4,
        max_size=12,
    )
)
def test_a_worker_process_survives_any_payload_and_answers_each(
    batch: list[tuple[str, Any]], worker_process: WorkerProcess, process_settings: Settings
) -> None:
    client = redis.Redis.from_url(process_settings.redis_url)
    producer = create_producer(process_settings.redis_url, process_settings.visibility_timeout_s)
    stream = process_settings.events.stream
    children = worker_process.children()
    log_before = Path(worker_process.log_path).read_text(errors="replace")
    _, last = events_after(client, stream, "0")
    for queue, payload in batch:
        producer.send_task(task_for(queue), args=[payload], queue=queue_for(queue))
    # a valid job last on each queue: once all three are answered, everything before them was taken
    sentinels = {modality: base_job(modality) for modality in MODALITIES}
    for modality, sentinel in sentinels.items():
        producer.send_task(task_for(modality), args=[sentinel], queue=queue_for(modality))
    events = wait_for_results(client, stream, last, {sentinel["id"] for sentinel in sentinels.values()})

    assert worker_process.process is not None and worker_process.process.poll() is None
    assert worker_process.children() == children, "the pool child was replaced: it crashed"
    answered: dict[str, list[Any]] = {}
    for queue, payload in batch:
        job_id = answer_id(payload)
        if queue != "embed" and job_id not in (None, ANY_ID):  # a fresh id is checked in process above
            answered.setdefault(job_id, []).append(payload)
    problems = []
    for job_id, sent in answered.items():
        mine = for_job(events, job_id)
        results = [e for _, e in mine if isinstance(e, ResultEvent)]
        if len(results) != len(
            sent
        ):  # a repeated id is answered once per message, the first result each time
            problems.append(f"{len(results)} results for {len(sent)} messages of job {job_id!r}")
        problems += answer_problems(sent[0], mine[:2])
    assert problems == []
    new_log = Path(worker_process.log_path).read_text(errors="replace")[len(log_before) :]
    assert "Traceback" not in new_log, new_log[-4000:]
    client.close()
