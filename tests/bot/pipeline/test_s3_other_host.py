"""A worker on another host with the S3 store: its own network namespace, reaching Redis and moto's S3
server only over a veth pair on test addresses, configured with nothing but the broker URL, the store's
settings and the AWS credentials. Its music job's files are objects in the bucket, which the bot side
still reads after Redis restarts.

Needs root and `ip netns` (skipped otherwise, unless ATELIER_REQUIRE_NETNS=1, as in CI)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.db.status import FINISHED_STATUSES, JobStatus
from bot.runtime import Runtime, open_runtime
from config.settings import Settings
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor
from tests.helpers.netns import OtherHost, other_host, skip_without_netns
from tests.helpers.s3 import aws_credentials, new_bucket, object_keys, running_moto, s3_env, with_s3_store
from tests.services import ROOT, MotoServer, RedisServer, WorkerProcess
from wire.contract import MusicJob

PREFIX = "remote"


@pytest.fixture(scope="module")
def host() -> Iterator[OtherHost]:
    skip_without_netns()
    with other_host() as made:
        yield made


@pytest.fixture(scope="module")
def redis_server(host: OtherHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """This module's Redis listens on the veth address only, where the other host can reach it."""
    server = RedisServer(tmp_path_factory.mktemp("redis-veth"), host=host.host_ip)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_server(host: OtherHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's S3 server on the veth address too."""
    with aws_credentials(), running_moto(tmp_path_factory.mktemp("moto"), host=host.host_ip) as server:
        yield server


@pytest.fixture
def bucket(s3_server: MotoServer) -> str:
    return new_bucket(s3_server)


@pytest.fixture
def pipeline_settings(pipeline_settings: Settings, s3_server: MotoServer, bucket: str) -> Settings:
    return with_s3_store(pipeline_settings, s3_server, bucket, PREFIX)


@pytest.fixture
def remote_worker(
    host: OtherHost, runtime: Runtime, s3_server: MotoServer, bucket: str, tmp_path: Path
) -> Iterator[WorkerProcess]:
    """A worker in the namespace, with a bare environment: the broker, the bucket, the credentials."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ATELIER_REDIS_URL": runtime.settings.redis_url,
        "ATELIER_EVENTS__STREAM": runtime.settings.events.stream,
        **s3_env(s3_server, bucket, PREFIX),
    }
    worker = WorkerProcess(env, "gen.music", tmp_path / "remote-worker.log", prefix=host.prefix)
    worker.start(timeout=120)
    yield worker
    worker.stop()


async def test_a_worker_on_another_host_stores_its_files_in_s3(
    runtime: Runtime,
    consumer: ConsumerControl,
    remote_worker: WorkerProcess,
    wait_for: WaitFor,
    redis_server: RedisServer,
    s3_server: MotoServer,
    bucket: str,
) -> None:
    job = MusicJob(options={"style": "hornpipe", "bars": 8, "seed": 9})
    await runtime.service.submit(job)
    record = await wait_for(job.id, lambda r: r.status in FINISHED_STATUSES, 240)
    assert record.status is JobStatus.SUCCEEDED, record.error
    assert {"audio", "midi"} <= {a.kind for a in record.artifacts}
    assert object_keys(s3_server, bucket) == {f"{PREFIX}/{a.key}" for a in record.artifacts}

    redis_server.restart()
    assert redis.Redis.from_url(redis_server.url).dbsize() == 0
    async with open_runtime(runtime.settings) as restarted:  # the bot, started again after it
        for ref in record.artifacts:
            assert hashlib.sha256(restarted.store.get(ref.key)).hexdigest() == ref.sha256
