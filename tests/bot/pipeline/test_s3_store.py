"""The S3 artifact store end to end: a real Celery worker stores a real music job's files in a bucket on
moto's S3 server, Redis restarts (queues, streams and any blob in it gone), and the bot side still reads
every file, and a challenge entry it kept, from the bucket. A worker pointed at a missing bucket says so
in one line at start and fails its job with a plain sentence, not a traceback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.db.status import FINISHED_STATUSES, JobStatus
from bot.runtime import Runtime, open_runtime
from config.settings import Settings
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor
from tests.helpers.s3 import (
    SECRET,
    aws_credentials,
    new_bucket,
    object_keys,
    running_moto,
    s3_env,
    with_s3_store,
)
from tests.services import MotoServer, RedisServer
from wire.contract import ErrorCode, MusicJob

PREFIX = "atelier-e2e"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with aws_credentials(), running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def bucket(s3_server: MotoServer) -> str:
    return new_bucket(s3_server)


@pytest.fixture
def pipeline_settings(pipeline_settings: Settings, s3_server: MotoServer, bucket: str) -> Settings:
    """The pipeline's settings with the bucket as the artifact store."""
    return with_s3_store(pipeline_settings, s3_server, bucket, PREFIX)


async def test_artifacts_in_s3_outlive_a_redis_restart(
    runtime: Runtime,
    consumer: ConsumerControl,
    start_worker: object,
    wait_for: WaitFor,
    redis_server: RedisServer,
    s3_server: MotoServer,
    bucket: str,
) -> None:
    worker = start_worker(runtime.settings, queues="gen.music", **s3_env(s3_server, bucket, PREFIX))  # type: ignore[operator]
    job = MusicJob(options={"style": "reel", "key": "G", "mode": "major", "bars": 8, "seed": 5})
    await runtime.service.submit(job)
    record = await wait_for(job.id, lambda r: r.status in FINISHED_STATUSES, 240)
    assert record.status is JobStatus.SUCCEEDED, record.error
    refs = {a.kind: a for a in record.artifacts}
    assert {"audio", "midi", "piano_roll"} <= set(refs)
    entry = runtime.store.put_kept("challenge-1", "entry.mid", "audio/midi", "upload", b"MThd-entry")

    # The files are objects in the bucket, under the prefix, and nothing of them is in Redis.
    expected = {f"{PREFIX}/{a.key}" for a in record.artifacts} | {f"{PREFIX}/{entry.key}"}
    assert object_keys(s3_server, bucket) == expected
    assert await runtime.redis.keys("atelier:artifact:*") == []

    redis_server.restart()  # everything Redis held is gone
    assert redis.Redis.from_url(redis_server.url).dbsize() == 0

    async with open_runtime(runtime.settings) as restarted:  # a bot process starting after it
        for store in (runtime.store, restarted.store):
            for ref in record.artifacts:
                assert hashlib.sha256(store.get(ref.key)).hexdigest() == ref.sha256
            assert store.get(refs["midi"].key).startswith(b"MThd")
            assert store.get(refs["audio"].key).startswith(b"OggS")
            assert store.get(entry.key) == b"MThd-entry"
    log = worker.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
    assert SECRET not in log and "artifact store is unusable" not in log


async def test_a_worker_on_a_missing_bucket_fails_its_job_plainly(
    runtime: Runtime,
    consumer: ConsumerControl,
    start_worker: object,
    wait_for: WaitFor,
    s3_server: MotoServer,
) -> None:
    env = s3_env(s3_server, "atelier-no-such-bucket", PREFIX)
    worker = start_worker(runtime.settings, queues="gen.music", **env)  # type: ignore[operator]
    job = MusicJob(options={"style": "jig", "bars": 4, "seed": 2})
    await runtime.service.submit(job)
    record = await wait_for(job.id, lambda r: r.status in FINISHED_STATUSES, 240)
    assert record.status is JobStatus.FAILED
    assert record.error_code is ErrorCode.INTERNAL
    assert record.error == "The result's files could not be stored."
    log = Path(worker.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
    assert "the artifact store is unusable: the bucket 'atelier-no-such-bucket'" in log  # said at start
    assert "job failed: the artifact store is unusable" in log
    assert "Traceback" not in log and SECRET not in log
