"""Queue-level batching of image jobs: a real Celery worker subprocess, the tiny diffusers pipeline built
here and loaded through a preset, jobs queued through Celery as the bot queues them."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from celery.exceptions import SoftTimeLimitExceeded
from PIL import Image

from config.settings import BatchSettings, ImagePreset, Settings, load_settings
from tests.helpers.context import RecordingContext
from tests.helpers.images import assert_same_image
from tests.models.image.tiny import build_pipeline
from wire import keys
from wire.artifacts import make_store
from wire.broker import create_producer
from wire.contract import (
    ErrorCode,
    ImageJob,
    JobResult,
    Outcome,
    ProgressEvent,
    ResultEvent,
    StartedEvent,
    TextJob,
    parse_event,
)
from wire.routing import queue_for, task_for
from workers.batching import Member, batch_key, gather, message_payload, peek, queue_lists, run_image_batch
from workers.runner import Services

StartWorker = Callable[..., Any]
QUEUE = queue_for("image")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline(tmp_path_factory.mktemp("tiny-batch") / "pipeline")


def worker_env(folder: Path, max_size: int, max_wait_ms: int = 300) -> dict[str, str]:
    return {
        "ATELIER_DEFAULT_IMAGE_PRESET": "tiny",
        "ATELIER_IMAGE_PRESETS__TINY__MODEL": str(folder),
        "ATELIER_IMAGE_PRESETS__TINY__DEVICE": "cpu",
        "ATELIER_IMAGE_PRESETS__TINY__DTYPE": "float32",
        "ATELIER_IMAGE_PRESETS__TINY__DEFAULT_STEPS": "2",
        "ATELIER_IMAGE_PRESETS__TINY__MAX_STEPS": "150",
        "ATELIER_IMAGE_PRESETS__TINY__SIZES": "[[64, 64], [64, 96]]",
        "ATELIER_IMAGE_BATCH__MAX_SIZE": str(max_size),
        "ATELIER_IMAGE_BATCH__MAX_WAIT_MS": str(max_wait_ms),
    }


def tiny_preset(folder: Path) -> ImagePreset:
    return ImagePreset(
        model=str(folder),
        device="cpu",
        dtype="float32",
        default_steps=2,
        max_steps=150,
        sizes=[(64, 64), (64, 96)],
    )


def job(prompt: str = "a lighthouse at dusk", **options: Any) -> ImageJob:
    return ImageJob(options={"prompt": prompt, "width": 64, "height": 64, **options})


def enqueue(settings: Settings, *jobs: ImageJob | TextJob, **send: Any) -> None:
    """Queue jobs exactly as the bot does (task id = job id, the modality's queue)."""
    app = create_producer(settings.redis_url, settings.visibility_timeout_s)
    for item in jobs:
        app.send_task(
            task_for(item.modality),
            args=[item.model_dump(mode="json")],
            task_id=item.id,
            queue=queue_for(item.modality),
            **send,
        )


def wait_results(client: redis.Redis, jobs: list[ImageJob], timeout: float = 120) -> list[JobResult]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = [client.get(keys.result_key(j.id)) for j in jobs]
        if all(s is not None for s in stored):
            return [JobResult.model_validate_json(s) for s in stored if s is not None]
        time.sleep(0.1)
    raise AssertionError(
        f"not all jobs finished: {[j.id for j, s in zip(jobs, stored, strict=True) if not s]}"
    )


def events(client: redis.Redis, settings: Settings) -> list[Any]:
    entries: Any = client.xrange(settings.events.stream)
    return [parse_event(fields[b"event"]) for _, fields in entries]


def wait_event(
    client: redis.Redis, settings: Settings, kind: type, job_id: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events(client, settings):
            if isinstance(event, kind) and _event_job(event) == job_id:
                return
        time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} for {job_id}")


def _event_job(event: Any) -> str:
    if isinstance(event, ProgressEvent):
        return event.progress.job_id
    if isinstance(event, ResultEvent):
        return event.result.job_id
    return str(event.job_id)


def timings(result: JobResult) -> tuple[int, int]:
    """(jobs in its pipeline call, jobs in its worker batch)."""
    return result.metadata["timings"]["batch_size"], result.metadata["worker_batch"]["size"]


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# ---- the queue, read without taking anything --------------------------------------------------


def test_peek_reads_queued_image_jobs_in_order_and_leaves_them(
    settings: Settings, redis_client: redis.Redis
) -> None:
    first, second, third = job(seed=1), job(seed=2, width=64, height=96), job(seed=3)
    enqueue(settings, first, second)
    enqueue(settings, job(seed=4), countdown=30)  # a retry waiting for its ETA is not for now
    enqueue(settings, third)
    enqueue(settings, TextJob(options={"prompt": "hello"}))  # other queue
    redis_client.lpush(QUEUE, b"{not a celery message")
    seen = peek(redis_client, QUEUE, task_for("image"))
    assert [q.job.id for q in seen] == [first.id, second.id, third.id]
    assert redis_client.llen(QUEUE) == 5  # nothing was taken
    assert message_payload(seen[0].raw, "atelier.generate.text") is None
    assert queue_lists(QUEUE)[0] == QUEUE and len(queue_lists(QUEUE)) == 4


def test_batch_key_fills_in_the_preset_defaults(tiny_dir: Path) -> None:
    settings = load_settings(default_image_preset="tiny", image_presets={"tiny": tiny_preset(tiny_dir)})
    assert batch_key(job(), settings) == ("tiny", 64, 64, 2, 0.0)
    assert batch_key(job(steps=2, guidance=0.0), settings) == batch_key(job(prompt="other", seed=5), settings)
    assert batch_key(job(steps=3), settings) != batch_key(job(), settings)
    assert batch_key(job(height=96), settings) != batch_key(job(), settings)
    assert batch_key(ImageJob(preset="nope", options={"prompt": "x"}), settings) is None


def test_gather_locks_compatible_free_jobs_and_leaves_the_rest(
    settings: Settings, redis_client: redis.Redis, tiny_dir: Path
) -> None:
    settings = settings.model_copy(
        update={"default_image_preset": "tiny", "image_presets": {"tiny": tiny_preset(tiny_dir)}}
    )
    svc = Services.from_settings(settings)
    lead, first, second = job(seed=0), job(seed=1), job(seed=5)
    cancelled, busy, taller = job(seed=2), job(seed=3), job(seed=4, height=96)
    from_photo = job(seed=6, init_artifact="inputs/0/photo.png")
    enqueue(settings, first, cancelled, busy, taller, from_photo, second)
    redis_client.set(keys.cancel_key(cancelled.id), "1")
    redis_client.set(keys.lock_key(busy.id), "another-worker")
    key = batch_key(lead, settings)
    assert key is not None
    members = [Member(job=lead, attempt=1)]
    try:
        gather(svc, members, key, BatchSettings(max_size=2, max_wait_ms=0), "me")
        assert [m.job.id for m in members] == [lead.id, first.id]  # max_size counts the received job
        gather(svc, members, key, BatchSettings(max_size=8, max_wait_ms=0), "me")
        assert [m.job.id for m in members] == [lead.id, first.id, second.id]
    finally:
        for member in members:
            svc.heartbeats.drop(member.job.id)
    assert redis_client.get(keys.lock_key(second.id)) == b"me"
    assert redis_client.get(keys.lock_key(busy.id)) == b"another-worker"
    assert redis_client.get(keys.lock_key(cancelled.id)) is None
    assert redis_client.llen(QUEUE) == 6  # gathering takes locks, never messages


def test_at_the_soft_time_limit_the_received_job_times_out_and_gathered_ones_go_back(
    settings: Settings, redis_client: redis.Redis, tiny_dir: Path
) -> None:
    """In this process, with the signal a Celery pool child gets at its soft limit (SIGUSR1 raising
    SoftTimeLimitExceeded), sent while the batched call is denoising."""
    from models.registry import clear_cache

    settings = settings.model_copy(
        update={"default_image_preset": "tiny", "image_presets": {"tiny": tiny_preset(tiny_dir)}}
    )
    svc = Services.from_settings(settings)
    lead, second, third = (job(p, seed=i, steps=8) for i, p in enumerate(["one", "two", "three"]))
    enqueue(settings, second, third)
    config = BatchSettings(max_size=4, max_wait_ms=0)

    def soft_limit(signum: int, frame: object) -> None:
        raise SoftTimeLimitExceeded()

    def send_when_denoising() -> None:
        wait_event(redis_client, settings, ProgressEvent, lead.id)
        os.kill(os.getpid(), signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, soft_limit)
    clear_cache()
    try:
        threading.Thread(target=send_when_denoising, daemon=True).start()
        results = run_image_batch(lead.model_dump(mode="json"), config, svc)
        assert results[0] is not None and results[0].error_code is ErrorCode.TIMEOUT
        assert results[1:] == [None, None]  # released, not failed: they did not get their own limit
        for item in (second, third):
            assert redis_client.get(keys.result_key(item.id)) is None
            assert redis_client.get(keys.lock_key(item.id)) is None
        assert redis_client.llen(QUEUE) == 2  # their messages are still queued

        again = run_image_batch(second.model_dump(mode="json"), config, svc)  # the next delivery
        assert [r.status if r else None for r in again] == [Outcome.SUCCEEDED] * 2
        assert [int(redis_client.get(keys.attempts_key(j.id)) or 0) for j in (second, third)] == [2, 2]
        assert redis_client.llen(QUEUE) == 1  # the gathered one's message went with its result
    finally:
        signal.signal(signal.SIGUSR1, previous)
        clear_cache()


# ---- a real worker ------------------------------------------------------------------------------


def test_compatible_jobs_share_one_pipeline_call_and_equal_running_alone(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    jobs = [
        job("a red fox", seed=21, count=2),
        job("a blue whale", seed=400, negative_prompt="blurry"),
        job("a green field", seed=9),
        job("a lighthouse", seed=77),
    ]
    enqueue(settings, *jobs)  # all queued before the worker takes the first
    worker = start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=8))
    results = wait_results(redis_client, jobs)
    assert [r.status for r in results] == [Outcome.SUCCEEDED] * 4, [r.error for r in results]
    assert [timings(r) for r in results] == [(4, 4)] * 4  # four jobs, one pipeline call
    assert {r.metadata["worker_batch"]["received"] for r in results} == {jobs[0].id}
    assert "running 4 image jobs as one batch" in worker.log_path.read_text()
    assert redis_client.llen(QUEUE) == 0  # gathered messages were removed once their results were stored

    seen = events(redis_client, settings)
    for item in jobs:  # every job has its own started, progress and (one) result event
        mine = [e for e in seen if _event_job(e) == item.id]
        assert sum(isinstance(e, StartedEvent) for e in mine) == 1
        assert any(isinstance(e, ProgressEvent) for e in mine)
        assert sum(isinstance(e, ResultEvent) for e in mine) == 1

    from models.image.backend import DiffusersImageBackend

    store = make_store(settings)
    alone = DiffusersImageBackend.from_preset("tiny", tiny_preset(tiny_dir), settings)
    for item, result in zip(jobs, results, strict=True):
        single = alone.generate(item, RecordingContext(job_id=item.id))
        together = [store.get(ref.key) for ref in result.artifacts if ref.kind == "image"]
        by_itself = [f.data for f in single.files if f.kind == "image"]
        assert len(together) == len(by_itself) == item.options.count
        for a, b in zip(together, by_itself, strict=True):
            assert_same_image(pixels(a), pixels(b))  # same seed, same image, batched or not


def test_incompatible_jobs_still_run_just_not_together(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    a, b, c = job("one", seed=1), job("two", seed=2), job("three", seed=3)
    taller, more_steps = job("tall", seed=4, height=96), job("slow", seed=5, steps=3)
    ordered = [a, taller, b, more_steps, c]
    enqueue(settings, *ordered)
    start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=8, max_wait_ms=100))
    results = dict(zip([j.id for j in ordered], wait_results(redis_client, ordered), strict=True))
    assert all(r.status is Outcome.SUCCEEDED for r in results.values())
    assert [timings(results[j.id]) for j in (a, b, c)] == [(3, 3)] * 3
    assert timings(results[taller.id]) == (1, 1) and timings(results[more_steps.id]) == (1, 1)
    assert results[more_steps.id].metadata["steps"] == 3 and results[taller.id].metadata["height"] == 96


def test_a_cancelled_job_does_not_cancel_the_rest_of_its_batch(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    # Enough steps that the call is still denoising when the cancel is seen (the worker looks at most
    # every 0.2 s): 8 steps could all finish in between on a fast machine, or a slow one under load.
    jobs = [job("one", seed=1, steps=150), job("two", seed=2, steps=150), job("three", seed=3, steps=150)]
    enqueue(settings, *jobs)
    start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=8))
    wait_event(redis_client, settings, ProgressEvent, jobs[1].id)  # the batched call is denoising
    redis_client.set(keys.cancel_key(jobs[1].id), "1")
    first, cancelled, third = wait_results(redis_client, jobs)
    assert cancelled.status is Outcome.CANCELLED and cancelled.error_code is ErrorCode.CANCELLED
    assert first.status is third.status is Outcome.SUCCEEDED
    assert timings(first) == timings(third) == (3, 3)  # it was in the call, and the call went on


def test_a_failing_job_fails_alone(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    store = make_store(settings)
    upload = store.put_input("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8)
    broken = job("from a photo", seed=1, init_artifact=upload.key, strength=0.5)
    fine = [job("one", seed=2), job("two", seed=3), job("three", seed=4)]
    enqueue(settings, broken, *fine)
    start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=8))
    failed, *others = wait_results(redis_client, [broken, *fine])
    assert failed.status is Outcome.FAILED and failed.error_code is ErrorCode.INVALID_INPUT, failed.error
    assert [r.status for r in others] == [Outcome.SUCCEEDED] * 3
    assert [timings(r) for r in others] == [(3, 4)] * 3  # the broken one was in the worker's batch


def test_batching_off_runs_one_job_per_message(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    jobs = [job("one", seed=1), job("two", seed=2)]
    enqueue(settings, *jobs)
    start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=1))
    results = wait_results(redis_client, jobs)
    assert [r.status for r in results] == [Outcome.SUCCEEDED] * 2
    assert [r.metadata["timings"]["batch_size"] for r in results] == [1, 1]
    assert all("worker_batch" not in r.metadata for r in results)


@pytest.mark.slow  # each job's lock must expire (LOCK_TTL_S) before it runs again
def test_a_worker_killed_mid_batch_loses_no_job(
    settings: Settings, redis_client: redis.Redis, start_worker: StartWorker, tiny_dir: Path
) -> None:
    jobs = [job("one", seed=1, steps=4), job("two", seed=2, steps=4), job("three", seed=3, steps=4)]
    enqueue(settings, *jobs)
    worker = start_worker(settings, queues=QUEUE, **worker_env(tiny_dir, max_size=8))
    wait_event(redis_client, settings, ProgressEvent, jobs[2].id)  # all three are in the running call
    worker.kill_child()
    results = wait_results(redis_client, jobs, timeout=180)  # each lock expires, then each job runs again
    assert [r.status for r in results] == [Outcome.SUCCEEDED] * 3, [r.error for r in results]
    for item in jobs:
        assert int(redis_client.get(keys.attempts_key(item.id)) or 0) >= 2
