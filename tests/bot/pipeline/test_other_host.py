"""A worker on another host: its own network namespace, reaching Redis only over a veth pair on test
addresses, configured with nothing but the broker URL and the artifact store (plus the name of its gated
test preset; no database, no shared folder). It completes a real music job whose files the bot side
reads back from the store, and a job whose link is cut while it runs finishes once when the link returns.

Needs root and `ip netns` (skipped otherwise, unless ATELIER_REQUIRE_NETNS=1, as in CI)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db.status import JobStatus
from bot.pipeline.reconciler import Reconciler
from bot.runtime import Runtime
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor
from tests.bot.pipeline.test_faults import _result_events
from tests.helpers.gated import GATED_PRESET, WORKER_APP, entered_key, gate_key
from tests.helpers.netns import OtherHost, other_host, skip_without_netns
from tests.polling import wait_until
from tests.services import ROOT, RedisServer, WorkerProcess
from wire.contract import MusicJob, TextJob

FINISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


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


@pytest.fixture
def remote_worker(host: OtherHost, runtime: Runtime, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A worker in the namespace, with a bare environment: the broker, the artifact store, its preset."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ATELIER_REDIS_URL": runtime.settings.redis_url,
        "ATELIER_ARTIFACTS__STORE": "redis",
        "ATELIER_EVENTS__STREAM": runtime.settings.events.stream,
        f"ATELIER_TEXT_PRESETS__{GATED_PRESET.upper()}__MODEL": "gated",
    }
    worker = WorkerProcess(
        env, "gen.music,gen.text", tmp_path / "remote-worker.log", app=WORKER_APP, prefix=host.prefix
    )
    worker.start(timeout=120)
    yield worker
    worker.stop()
    host.link(up=True)


def _reaches(host: OtherHost, address: str, port: int) -> bool:
    """Whether a TCP connection from the other host to `address:port` succeeds."""
    probe = f"import socket; s = socket.socket(); s.settimeout(2); print(s.connect_ex(({address!r}, {port})))"
    out = subprocess.run(
        [*host.prefix, sys.executable, "-c", probe], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "0"


def test_the_other_host_reaches_redis_on_the_veth_only(host: OtherHost, redis_server: RedisServer) -> None:
    """It really is apart: this host's loopback services are not on its 127.0.0.1."""
    assert _reaches(host, host.host_ip, redis_server.port)
    assert not _reaches(host, "127.0.0.1", redis_server.port)
    assert not _reaches(host, "127.0.0.1", 5432)


async def test_a_worker_on_another_host_completes_jobs_and_survives_a_cut_link(
    host: OtherHost,
    runtime: Runtime,
    consumer: ConsumerControl,
    remote_worker: WorkerProcess,
    wait_for: WaitFor,
    redis_server: RedisServer,
) -> None:
    music = MusicJob(options={"style": "jig", "bars": 8, "seed": 3})
    await runtime.service.submit(music)
    record = await wait_for(music.id, lambda r: r.status in FINISHED, 180)
    assert record.status is JobStatus.SUCCEEDED, record.error
    kinds = {a.kind for a in record.artifacts}
    assert {"audio", "midi"} <= kinds
    for artifact in record.artifacts:  # the files it made on the other host, read from the store here
        assert runtime.store.get(artifact.key)

    job = TextJob(options={"prompt": "across the wire", "kind": "story"}, preset=GATED_PRESET)
    await runtime.service.submit(job)

    async def entered() -> int:
        return int(await runtime.redis.get(entered_key(job.id)) or 0)

    await wait_until(entered, 60)  # running on the other host, held at the gate
    host.link(up=False)  # its link goes down mid-job
    assert not await asyncio.to_thread(_reaches, host, host.host_ip, redis_server.port)
    await runtime.redis.set(gate_key(job.id), "1")  # the gate opens while it cannot see it
    reconciler = Reconciler(runtime.service, runtime.jobs, runtime.settings)
    for _ in range(12):  # the scheduler's passes go on meanwhile (the job's lock outlives a short cut)
        await reconciler.run_once()
        await wait_until(lambda: True, 1)
    host.link(up=True)
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 120)
    assert record.status is JobStatus.SUCCEEDED, record.error
    assert record.result is not None and record.result.text == "Past the gate: across the wire"
    assert len(await _result_events(runtime, job.id)) == 1  # finished once
    assert await runtime.jobs.mark_delivered(job.id)
    assert not await runtime.jobs.mark_delivered(job.id)
