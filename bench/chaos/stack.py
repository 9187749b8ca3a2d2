"""The whole stack for a chaos run, each part a real process the harness can kill and start again.

- the local Discord-compatible server (in the harness's own event loop, with its fault hooks);
- a private redis-server (tests.services.RedisServer) and a private PostgreSQL cluster;
- the bot (`atelier bot`, the real discord.py client) and the scheduler (`atelier scheduler`);
- several Celery workers (tests.services.WorkerProcess, prefork, one child each) serving the `chaos`
  text preset, each reaching Redis through a proxy of its own that the harness can cut.

Blocking steps (starting a worker, pg_ctl) run in threads so the sandbox keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.chaos.backend import CHAOS_PRESET
from bench.chaos.postgres import PostgresCluster
from bench.chaos.proxy import CuttableProxy
from bot.sandbox import SandboxServer
from tests.services import ROOT, RedisServer, WorkerProcess

TOKEN = "chaos-bot-token"
WORKER_APP = "bench.chaos.worker_app"
LIFTED_LIMITS = ("DAILY_JOBS", "MAX_DAILY_JOBS", "CONCURRENT_JOBS", "MAX_CONCURRENT_JOBS", "QUEUE_CAP")


@dataclass(frozen=True)
class StackConfig:
    workers: int = 3
    job_s: float = 1.0
    """How long each chaos job runs on a worker."""
    artifacts: str = "local"
    """`local`: a folder every process here shares, which outlives Redis (as S3 would across hosts);
    `redis`: blobs in the broker's Redis, lost with it when it restarts without persistence."""


def _end(process: subprocess.Popen[bytes], hard: bool, timeout: float) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Service:
    """A process of ours (`atelier bot`, `atelier scheduler`) that can be killed and started again."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[subprocess.Popen[bytes]] = []
        """Every process started, so none outlives the harness whatever the faults raced into."""
        self.starts = 0

    def start(self) -> None:
        handle = self.log.open("ab")
        handle.write(f"\n--- start {self.starts + 1} at {time.strftime('%H:%M:%S')} ---\n".encode())
        handle.flush()
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(self.process)
        self.starts += 1

    def stop(self, hard: bool = False, timeout: float = 30.0) -> None:
        """SIGKILL (`hard`) or SIGTERM and wait; the whole process group either way. Only the process
        running when called is forgotten (a fault may have started another meanwhile)."""
        process = self.process
        if process is None:
            return
        _end(process, hard, timeout)
        if self.process is process:
            self.process = None

    def stop_all(self) -> None:
        """End every process this service ever started."""
        for process in self.started:
            _end(process, False, 30.0)
        self.process = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Stack:
    def __init__(self, root: Path, config: StackConfig) -> None:
        self.root = root
        self.config = config
        self.redis = RedisServer(root / "redis")
        self.postgres = PostgresCluster()
        self.sandbox = SandboxServer(token=TOKEN)
        self.proxies: list[CuttableProxy] = []
        self.workers: list[WorkerProcess] = []
        self.stream = f"chaos:{uuid.uuid4().hex[:8]}:events"
        self.bot: Service | None = None
        self.scheduler: Service | None = None
        self.worker_starts = 0

    # --- environment -----------------------------------------------------------------------

    def env(self, redis_url: str | None = None) -> dict[str, str]:
        """What every process of ours reads: the private services, the chaos preset, short leases."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "DISCORD_"))}
        env.update(
            PYTHONPATH=str(ROOT),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            ATELIER_REDIS_URL=redis_url or self.redis.url,
            ATELIER_DATABASE_URL=self.postgres.url,
            ATELIER_DATA_DIR=str(self.root / "var"),
            ATELIER_MODEL_CACHE_DIR=str(self.root / "cache"),
            ATELIER_LOG_LEVEL="INFO",
            ATELIER_EVENTS__STREAM=self.stream,
            ATELIER_EVENTS__BLOCK_MS="200",
            ATELIER_EVENTS__CLAIM_IDLE_MS="3000",
            ATELIER_DEFAULT_TEXT_PRESET=CHAOS_PRESET,
            ATELIER_TEXT_PRESETS__CHAOS__MODEL=CHAOS_PRESET,
            # Recovery on the scale of a run (production: 30 s passes, 120 s grace, 120 s leases).
            ATELIER_RECONCILER__INTERVAL_S="1",
            ATELIER_RECONCILER__QUEUED_GRACE_S="3",
            ATELIER_RECONCILER__RUNNING_GRACE_S="8",
            ATELIER_RECONCILER__MAX_ATTEMPTS="5",
            ATELIER_SCHEDULER__POLL_S="0.5",
            ATELIER_SCHEDULER__LEASE_S="10",
            ATELIER_SCHEDULER__RETRY_BASE_S="1",
            ATELIER_QUEUES__TEXT__SOFT_TIME_LIMIT="60",
            ATELIER_QUEUES__TEXT__TIME_LIMIT="90",
            ATELIER_VISIBILITY_TIMEOUT_S="3600",
            CHAOS_JOB_S=str(self.config.job_s),
            ATELIER_ARTIFACTS__STORE=self.config.artifacts,
            ATELIER_ARTIFACTS__LOCAL_DIR=str(self.root / "artifacts"),
            **{f"ATELIER_MODERATION__{key}": "100000" for key in LIFTED_LIMITS},
        )
        env["ATELIER_MODERATION__MAX_QUEUE_CAP"] = "100000"
        return env

    def bot_env(self) -> dict[str, str]:
        return {
            **self.env(),
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": self.sandbox.api_base,
            "DISCORD_GATEWAY_URL": self.sandbox.gateway_url,
            "ATELIER_DISCORD_TEST_GUILD_ID": str(self.sandbox.guild_id),
        }

    # --- life ------------------------------------------------------------------------------

    async def start(self) -> None:
        for folder in ("redis", "var", "logs"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        await self.sandbox.start()
        await asyncio.to_thread(self.redis.start)
        await asyncio.to_thread(self.postgres.start)
        atelier = str(Path(sys.executable).with_name("atelier"))
        logs = self.root / "logs"
        await asyncio.to_thread(
            subprocess.run,
            [atelier, "db", "upgrade"],
            env=self.env(),
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        self.scheduler = Service("scheduler", [atelier, "scheduler"], self.env(), logs / "scheduler.log")
        self.scheduler.start()
        self.bot = Service("bot", [atelier, "bot"], self.bot_env(), logs / "bot.log")
        for index in range(self.config.workers):
            proxy = CuttableProxy(self.redis.port)
            await proxy.start()
            self.proxies.append(proxy)
            worker = WorkerProcess(
                self.env(proxy.url), "gen.text", logs / f"worker-{index}.log", app=WORKER_APP
            )
            self.workers.append(worker)
        await asyncio.gather(*(asyncio.to_thread(w.start, 120.0) for w in self.workers))
        await self.start_bot(first=True)

    async def start_bot(self, first: bool = False) -> None:
        assert self.bot is not None
        before = self.sandbox.gateway.count("identify")
        self.bot.start()
        await self.sandbox.wait_for_gateway("identify", count=before + 1, timeout=120)
        if first:
            deadline = time.monotonic() + 120
            while not self.sandbox.commands(self.sandbox.guild_id):
                if time.monotonic() > deadline:
                    raise TimeoutError("the bot never synced its commands")
                await asyncio.sleep(0.2)
        await asyncio.sleep(2.5)  # discord.py's guild-ready wait after the last GUILD_CREATE

    async def stop_bot(self, hard: bool) -> None:
        assert self.bot is not None
        await asyncio.to_thread(self.bot.stop, hard)

    async def restart_worker(self, index: int) -> None:
        """kill -9 the whole worker (parent and child), then start a new one in its place."""
        worker = self.workers[index]
        if worker.process is not None:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
            worker.process = None
        self.worker_starts += 1  # a fresh log, so `start` waits for this worker's own "ready."
        worker.log_path = self.root / "logs" / f"worker-{index}-{self.worker_starts}.log"
        await asyncio.to_thread(worker.start, 120.0)

    async def ensure_up(self) -> None:
        """After a fault: every part running again (a fault's own healing may have done it)."""
        for index, worker in enumerate(self.workers):
            if worker.process is None or worker.process.poll() is not None:
                await self.restart_worker(index)
        for proxy in self.proxies:
            proxy.mend()
        assert self.bot is not None and self.scheduler is not None
        if not self.bot.alive:
            await self.start_bot()
        if not self.scheduler.alive:
            self.scheduler.start()

    async def stop(self) -> None:
        for service in (self.bot, self.scheduler):
            if service is not None:
                await asyncio.to_thread(service.stop_all)
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in self.workers), return_exceptions=True)
        for proxy in self.proxies:
            await proxy.stop()
        await asyncio.to_thread(self.postgres.remove)
        await asyncio.to_thread(self.redis.stop)
        await self.sandbox.stop()
