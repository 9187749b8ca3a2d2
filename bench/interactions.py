"""`make bench` (Discord part): slash commands injected at a steady rate through the local server.

The real bot runs as its own processes (`atelier bot`, one per group of shards) against an in-process
`SandboxServer`; every interaction is a `/write`, so each one makes the bot validate options, check the
server's policy, store a job, enqueue it (or hold it in admission) and defer. No worker runs: this is
the bot layer alone. Reported: how many were answered within Discord's 3 s window, the defer latency
(interaction dispatched → initial response received by the server) p50/p99, and the bots' resident
memory before, after and its trend during the run.

    python -m bench.interactions --rate 100 --seconds 60          # the steady run (one process)
    python -m bench.interactions --find-max --shards 1 2 4        # highest rate with p99 < 100 ms

The load generator shares its process (and event loop) with the local server, so at high rates part of
the measured latency is the generator's own: the figures are an upper bound on the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.figures import provenance
from bench.pipeline import private_redis
from bot.sandbox.server import SandboxServer
from bot.sandbox.snowflake import shard_for_guild

ROOT = Path(__file__).resolve().parents[1]
LIFTED_LIMITS = (
    "DAILY_JOBS",
    "MAX_DAILY_JOBS",
    "CONCURRENT_JOBS",
    "MAX_CONCURRENT_JOBS",
    "QUEUE_CAP",
    "MAX_QUEUE_CAP",
)
GUILDS = 16
GOAL_P99_S = 0.100
RAMP = (50, 100, 200, 300, 400, 500, 600, 800, 1000)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class LoadResult:
    rate: float
    seconds: float
    shards: int
    sent: int = 0
    in_time: int = 0
    late: int = 0
    unanswered: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    achieved_rate: float = 0.0
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_slope_mib_per_min: float = 0.0
    """Least-squares slope of the bots' summed RSS over the run (growth trend)."""
    samples: list[float] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.unanswered == 0 and self.late == 0 and self.p99_ms < GOAL_P99_S * 1000


class Fleet:
    """`shards` bot processes, process i running shard i, against one local server."""

    def __init__(self, tmp: Path, shards: int, redis_url: str, database_url: str, workers: int = 0) -> None:
        self.tmp = tmp
        self.workers = workers
        self.stream = f"bench:{uuid.uuid4().hex[:8]}:events"
        self.worker_processes: list[Any] = []
        self.shards = shards
        self.redis_url = redis_url
        self.database_url = database_url
        self.token = "bench." + uuid.uuid4().hex
        self.server = SandboxServer(token=self.token, shard_count=shards)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.channels: list[int] = []

    def _env(self, shard: int) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
            "DISCORD_TOKEN": self.token,
            "ATELIER_ENV": "production",  # commands synced globally, so every guild has them
            "ATELIER_REDIS_URL": self.redis_url,
            "DISCORD_API_BASE": self.server.api_base,
            "DISCORD_GATEWAY_URL": self.server.gateway_url,
            "ATELIER_DATABASE_URL": self.database_url,
            "ATELIER_DATA_DIR": str(self.tmp / "var"),
            "ATELIER_EVENTS__STREAM": self.stream,
            "ATELIER_LOG_LEVEL": "WARNING",
            # With --workers: the chaos preset at zero seconds, an instant model (bench/chaos/backend.py).
            "ATELIER_DEFAULT_TEXT_PRESET": "chaos",
            "ATELIER_TEXT_PRESETS__CHAOS__MODEL": "chaos",
            "CHAOS_JOB_S": "0",
            "ATELIER_DISCORD_SHARD_COUNT": str(self.shards),
            "ATELIER_DISCORD_SHARD_IDS": json.dumps([shard]),
            # One member sends every interaction and no worker runs: lift the per-member limits so
            # each one takes the whole path (policy, admission, store, defer) instead of a refusal.
            **{f"ATELIER_MODERATION__{key}": "10000000" for key in LIFTED_LIMITS},
        }

    async def start(self) -> None:
        await self.server.start()
        for number in range(GUILDS):  # guilds a few ms apart spread over the shards by their ids
            self.server.world.add_guild(f"Bench {number}")
            await asyncio.sleep(0.003)
        owned = {shard_for_guild(g, self.shards) for g in self.server.world.guilds}
        assert owned == set(range(self.shards)), f"guilds do not cover every shard: {owned}"
        self.channels = [int(g.channels[0]["id"]) for g in self.server.world.guilds.values()]
        if self.workers:
            from tests.services import WorkerProcess

            env = {**self._env(0), "PYTHONPATH": str(ROOT), "ATELIER_LOG_LEVEL": "INFO"}  # its "ready."
            for index in range(self.workers):
                path = self.tmp / f"worker-{index}.log"
                worker = WorkerProcess(env, "gen.text", path, app="bench.chaos.worker_app")
                self.worker_processes.append(worker)
                await asyncio.to_thread(worker.start, 120.0)
        atelier = str(Path(sys.executable).with_name("atelier"))
        for shard in range(self.shards):
            log = (self.tmp / f"bot-{self.shards}-{shard}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [atelier, "bot"], cwd=ROOT, env=self._env(shard), stdout=log, stderr=subprocess.STDOUT
                )
            )
            await self.server.wait_until_ready(timeout=120, shards=shard + 1)
            if shard == 0:
                await self._wait_for_commands()
        await asyncio.sleep(3.0)  # every process past its guild-ready wait

    async def _wait_for_commands(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.server.commands():
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never synced its commands")
            await asyncio.sleep(0.2)

    def rss_mib(self) -> float:
        return sum(psutil.Process(p.pid).memory_info().rss for p in self.processes) / 2**20

    async def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        for worker in self.worker_processes:
            await asyncio.to_thread(worker.stop)
        await self.server.stop()


async def drive(fleet: Fleet, rate: float, seconds: float) -> LoadResult:
    """Send `rate` /write a second for `seconds`, round-robin over the guilds; sample memory."""
    server = fleet.server
    result = LoadResult(rate, seconds, fleet.shards, rss_before_mib=fleet.rss_mib())
    latencies: list[float] = []
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), fleet.rss_mib()))
            await asyncio.sleep(1.0)

    async def one(n: int) -> None:
        sent = time.monotonic()
        channel = fleet.channels[n % len(fleet.channels)]
        handle = await server.send_slash_command(
            "write", {"prompt": f"a haiku about rain #{n}", "length": 32}, channel=channel
        )
        try:
            await handle.wait_responded(5.0)
        except TimeoutError:
            result.unanswered += 1
            return
        latency = time.monotonic() - sent
        latencies.append(latency)
        if latency > 3.0 or handle.rejections:
            result.late += 1

    sampler = asyncio.create_task(sample())
    tasks = []
    start = time.monotonic()
    count = int(rate * seconds)
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    result.achieved_rate = count / max(1e-9, time.monotonic() - start)
    await asyncio.gather(*tasks)
    stop.set()
    await sampler
    result.sent = count
    result.in_time = len(latencies) - result.late
    if latencies:
        result.p50_ms = statistics.median(latencies) * 1000
        result.p99_ms = _pct(latencies, 0.99) * 1000
        result.max_ms = max(latencies) * 1000
    result.rss_after_mib = fleet.rss_mib()
    result.rss_peak_mib = max([m for _, m in samples] + [result.rss_after_mib])
    if len(samples) > 2:
        xs = [t - samples[0][0] for t, _ in samples]
        ys = [m for _, m in samples]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mean_x) ** 2 for x in xs
        )
        result.rss_slope_mib_per_min = slope * 60
    return result


def _print(result: LoadResult) -> None:
    print(
        f"  {result.shards} process(es), {result.rate:.0f}/s for {result.seconds:.0f} s "
        f"(sent at {result.achieved_rate:.0f}/s): sent {result.sent}, in time {result.in_time}, "
        f"late {result.late}, unanswered {result.unanswered}; defer p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, max {result.max_ms:.0f} ms; memory {result.rss_before_mib:.0f} → "
        f"{result.rss_after_mib:.0f} MiB (peak {result.rss_peak_mib:.0f}, trend "
        f"{result.rss_slope_mib_per_min:+.1f} MiB/min)",
        flush=True,
    )


async def _with_fleet(shards: int, database: str, work: Any, workers: int = 0) -> Any:
    tmp = Path(tempfile.mkdtemp(prefix="atelier-bot-bench-"))
    redis_proc, redis_url = private_redis(tmp)  # the queued jobs go nowhere near a real queue
    cluster = None
    if database == "postgres":
        from bench.chaos.postgres import PostgresCluster

        cluster = PostgresCluster()
        await asyncio.to_thread(cluster.start)
        url = cluster.url
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    fleet = Fleet(tmp, shards, redis_url, url, workers)
    try:
        await fleet.start()
        return await work(fleet)
    finally:
        await fleet.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if cluster is not None:
            await asyncio.to_thread(cluster.remove)


async def steady(rate: float, seconds: float, shards: int, database: str, workers: int) -> LoadResult:
    drained = (
        f"{workers} instant-model worker(s) draining the queue" if workers else "no worker: the backlog grows"
    )
    print(
        f"Interactions through the local Discord server — {rate:.0f}/s for {seconds:.0f} s ({database}; {drained})"
    )
    result: LoadResult = await _with_fleet(
        shards, database, lambda fleet: drive(fleet, rate, seconds), workers
    )
    _print(result)
    print("goal: every interaction deferred within 3 s; p99 under 100 ms locally; no memory growth trend")
    return result


async def find_max(shards: int, database: str, step_s: float, workers: int) -> dict[str, Any]:
    """Raise the rate along RAMP until p99 reaches 100 ms (or anything is late or unanswered)."""

    async def ramp(fleet: Fleet) -> dict[str, Any]:
        steps = []
        best = 0.0
        for rate in RAMP:
            result = await drive(fleet, rate, step_s)
            _print(result)
            steps.append(asdict(result))
            if not result.ok or result.achieved_rate < rate * 0.95:
                break
            best = rate
            await asyncio.sleep(2.0)
        return {"shards": shards, "best_rate": best, "steps": steps}

    print(
        f"Highest rate with defer p99 < 100 ms — {shards} bot process(es), {step_s:.0f} s a step ({database})"
    )
    found: dict[str, Any] = await _with_fleet(shards, database, ramp, workers)
    print(f"  → {shards} process(es): {found['best_rate']:.0f}/s")
    return found


async def main(args: argparse.Namespace) -> None:
    report: dict[str, Any] = {}
    if args.find_max:
        report["max_rate"] = [
            await find_max(n, args.database, args.step_seconds, args.workers) for n in args.shards
        ]
    else:
        report["steady"] = asdict(
            await steady(args.rate, args.seconds, args.shards[0], args.database, args.workers)
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        for part in report.get("max_rate", []):
            for step in part["steps"]:
                step.pop("samples", None)
        report.get("steady", {}).pop("samples", None)
        args.json.write_text(json.dumps({**report, **provenance()}, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="interaction load through the local Discord server")
    parser.add_argument("--rate", type=float, default=100.0, help="interactions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--shards", type=int, nargs="+", default=[1], help="bot processes (one shard each)")
    parser.add_argument("--find-max", action="store_true", help="ramp the rate for each --shards value")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="length of each ramp step")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=0, help="instant-model workers draining the queue")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    asyncio.run(main(parser.parse_args()))
