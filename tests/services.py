"""Real services for tests: a private redis-server per session, Celery worker subprocesses, and moto's
S3-compatible server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server of our own on a free port, which a test may stop and restart."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    """The address it binds (a test's veth address, to be reached from another network namespace)."""

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                self.host,
                "--protected-mode",
                "no" if self.host != "127.0.0.1" else "yes",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host=self.host, port=self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        """Stop and start again: everything in memory (queues, streams) is gone."""
        self.stop()
        self.start()


@dataclass
class WorkerProcess:
    """A real `celery worker` subprocess running `app` (the production entry by default; tests may
    name another module that builds the app, such as `tests.helpers.gated_worker`)."""

    env: dict[str, str]
    queues: str
    log_path: Path
    pool: str = "prefork"
    process: subprocess.Popen[bytes] | None = None
    app: str = "workers.main"
    prefix: tuple[str, ...] = ()
    """Run the worker under this command (e.g. `ip netns exec NAME`, another network namespace)."""

    def start(self, timeout: float = 60.0) -> None:
        celery = str(Path(sys.executable).with_name("celery"))
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.prefix,
                celery,
                "-A",
                self.app,
                "worker",
                "-Q",
                self.queues,
                "-P",
                self.pool,
                "-c",
                "1",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if "ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready: {self.log_path.read_text()[-3000:]}")

    def children(self) -> list[int]:
        """Pids of the prefork pool's children."""
        assert self.process is not None
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def kill_child(self) -> int:
        """SIGKILL the pool child that runs the job (the parent then requeues it)."""
        pids = self.children()
        assert pids, "no pool child to kill"
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@dataclass
class MotoServer:
    """moto's S3-compatible server (`python -m moto.server`) of our own on a free port. With `auth` it
    checks signatures as S3 does, so any access key it never issued is refused."""

    log_path: Path
    port: int = field(default_factory=free_port)
    auth: bool = False
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ)
        if self.auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log_path.read_text()[-3000:]}")
            with socket.socket() as sock:
                if sock.connect_ex((self.host, self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"moto server not ready: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
