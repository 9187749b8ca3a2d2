"""`make bench`: our pipeline's overhead measured side by side with raw Celery on the same Redis.

Raw: `send_task` of a no-op → its result (Redis result backend). Ours: DB write + enqueue + worker start
(idempotency check, lock, started event) + result event consumed and recorded in the database, for a job
whose backend answers at once (an unknown preset: the instant failure exercises the same path without a
model). Both workers are `-P solo -c 1` subprocesses; rounds alternate so noise hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis

from bench.figures import Row, row, write
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.runtime import Runtime, open_runtime
from config.settings import get_settings, load_settings
from wire.contract import StartedEvent, TextJob
from wire.events import AnyEvent, EventConsumer, event_job_id

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _start_worker(app: str, queue: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    celery = str(Path(sys.executable).with_name("celery"))
    proc = subprocess.Popen(
        [
            celery,
            "-A",
            app,
            "worker",
            "-Q",
            queue,
            "-P",
            "solo",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"bench-{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    time.sleep(0.5)
    return proc


def _raw_round(n: int) -> dict[str, list[float] | float]:
    from bench.raw_celery import noop

    noop.delay().get(timeout=60)  # warm
    starts, rtts = [], []
    for _ in range(n):
        sent = time.time()
        started = noop.delay().get(timeout=30)
        rtts.append(time.time() - sent)
        starts.append(started - sent)
    began = time.perf_counter()
    handles = [noop.delay() for _ in range(n)]
    for handle in handles:
        handle.get(timeout=60)
    return {"start": starts, "rtt": rtts, "throughput": n / (time.perf_counter() - began)}


async def _ours_round(rt: Runtime, n: int) -> dict[str, list[float] | float]:
    done: dict[str, asyncio.Future[float]] = {}
    started_at: dict[str, float] = {}

    def after(event: AnyEvent, record: JobRecord | None) -> None:
        job_id = event_job_id(event)
        if isinstance(event, StartedEvent):
            started_at[job_id] = event.at.timestamp()
        if record is not None and record.id in done and not done[record.id].done():
            done[record.id].set_result(time.time())

    async def handle(event: AnyEvent) -> None:
        after(event, await rt.service.apply_event(event))

    async def handle_batch(events: list[AnyEvent]) -> None:  # what the bot does: one transaction a batch
        for event, record in zip(events, await rt.service.apply_events(events), strict=True):
            after(event, record)

    events = rt.settings.events
    stop = asyncio.Event()
    consumer = EventConsumer(
        rt.redis,
        events.stream,
        events.group,
        "bench",
        handle,
        block_ms=50,
        concurrency=rt.settings.event_handler_concurrency,
        batch_handler=handle_batch,
    )
    task = asyncio.create_task(consumer.run(stop))

    def job() -> TextJob:
        return TextJob(options={"prompt": "bench"}, preset="bench-instant")

    async def one() -> tuple[float, float]:
        item = job()
        done[item.id] = asyncio.get_running_loop().create_future()
        sent = time.time()
        await rt.service.submit(item)
        finished = await asyncio.wait_for(done[item.id], 30)
        return started_at[item.id] - sent, finished - sent

    await one()  # warm
    starts, rtts = [], []
    for _ in range(n):
        s, r = await one()
        starts.append(s)
        rtts.append(r)
    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    throughput = n / (time.perf_counter() - began)
    stop.set()
    await task
    record = await rt.jobs.get(next(iter(done)))
    assert record is not None and record.status is JobStatus.FAILED  # the instant answer, recorded
    return {"start": starts, "rtt": rtts, "throughput": throughput}


def _cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """User + system CPU seconds each process has used so far."""
    return {part: sum(process.cpu_times()[:2]) for part, process in processes.items()}


def private_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server of the bench's own, so no stale messages or other traffic skew the figures."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, url


async def main(
    n: int = 200, rounds: int = 10, database_url: str | None = None, json_path: Path | None = None
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
    redis_proc, redis_url = private_redis(tmp)
    os.environ["ATELIER_REDIS_URL"] = redis_url  # for the raw Celery app, imported later
    get_settings.cache_clear()
    try:
        rows = await _compare(tmp, redis_url, redis_proc.pid, n, rounds, database_url)
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    if json_path is not None:
        write(json_path, "pipeline", f"Pipeline overhead vs raw Celery, {rounds} rounds × {n} tasks", rows)


async def _compare(
    tmp: Path, redis_url: str, redis_pid: int, n: int, rounds: int, database_url: str | None
) -> list[Row]:
    settings = load_settings(
        redis_url=redis_url,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        events={"stream": f"bench:{os.getpid()}:events", "group": "bench", "block_ms": 50},
    )
    env = {
        **os.environ,
        "ATELIER_DATABASE_URL": settings.database_url,
        "ATELIER_EVENTS__STREAM": settings.events.stream,
        "PYTHONPATH": str(ROOT),
        "ATELIER_LOG_LEVEL": "WARNING",  # as the raw worker's -l: neither side writes a line per task
    }
    raw = _start_worker("bench.raw_celery", "bench.raw", env, tmp / "raw.log")
    ours = _start_worker("workers.main", "gen.text", env, tmp / "ours.log")
    results: dict[str, dict[str, list[float]]] = {"raw": {}, "ours": {}}
    cpu: dict[str, dict[str, float]] = {"raw": {}, "ours": {}}
    try:
        async with open_runtime(settings) as rt:
            for _ in range(rounds):
                for name, worker in (("raw", raw), ("ours", ours)):
                    processes = {
                        "client": psutil.Process(),
                        "worker": psutil.Process(worker.pid),
                        "redis": psutil.Process(redis_pid),
                    }
                    before = _cpu_seconds(processes)
                    measured = await (
                        asyncio.to_thread(_raw_round, n) if name == "raw" else _ours_round(rt, n)
                    )
                    for part, used in _cpu_seconds(processes).items():
                        cpu[name][part] = cpu[name].get(part, 0.0) + used - before[part]
                    for key, value in measured.items():
                        values = value if isinstance(value, list) else [value]
                        results[name].setdefault(key, []).extend(values)
            rss = psutil.Process(ours.pid).memory_info().rss / 2**20
    finally:
        for proc in (raw, ours):
            proc.terminate()
            proc.wait(timeout=20)
    database = settings.database_url.split("://")[0]
    print(
        f"Pipeline overhead vs raw Celery — {rounds} rounds × {n} tasks, one -P solo worker each, "
        f"one private Redis, database {database}"
    )
    print(f"{'':28}{'raw Celery':>14}{'Atelier':>14}{'ratio':>10}")
    rows = [
        ("enqueue→start p50 (ms)", "start", 0.5),
        ("enqueue→start p99 (ms)", "start", 0.99),
        ("round trip p50 (ms)", "rtt", 0.5),
        ("round trip p99 (ms)", "rtt", 0.99),
    ]
    raw_label = "raw Celery"
    out: list[Row] = []
    for label, key, q in rows:
        a, b = _pct(results["raw"][key], q) * 1000, _pct(results["ours"][key], q) * 1000
        print(f"{label:28}{a:14.2f}{b:14.2f}{b / a:10.2f}")
        goal = {"round trip p50 (ms)": "≤ 2× raw"}.get(label, "")
        met = b <= 2 * a if goal else None
        out.append(
            row(
                label.removesuffix(" (ms)"), b, "ms", baseline=a, baseline_label=raw_label, goal=goal, met=met
            )
        )
    ta = statistics.median(results["raw"]["throughput"])
    tb = statistics.median(results["ours"]["throughput"])
    print(f"{'throughput (jobs/s, median)':28}{ta:14.1f}{tb:14.1f}{tb / ta:10.2f}")
    out.append(
        row(
            "throughput, median round",
            tb,
            "jobs/s",
            baseline=ta,
            baseline_label=raw_label,
            goal="≥ 0.7× raw",
            met=tb >= 0.7 * ta,
        )
    )
    each = ", ".join(
        f"{a:.0f}/{b:.0f}"
        for a, b in zip(results["raw"]["throughput"], results["ours"]["throughput"], strict=True)
    )
    print(f"throughput per round (raw/Atelier, jobs/s): {each}")
    paired = sorted(
        b / a for a, b in zip(results["raw"]["throughput"], results["ours"]["throughput"], strict=True)
    )
    print(
        f"throughput ratio within each round (Atelier ÷ the raw run just before it): median "
        f"{statistics.median(paired):.2f}, range {paired[0]:.2f}–{paired[-1]:.2f}"
    )
    jobs = rounds * (2 * n + 1)  # each round and side: a warm-up, n one at a time, n at once
    for part, label in (
        ("client", "CPU per job: client/bot (ms)"),
        ("worker", "CPU per job: worker (ms)"),
        ("redis", "CPU per job: Redis (ms)"),
    ):
        a, b = cpu["raw"][part] / jobs * 1000, cpu["ours"][part] / jobs * 1000
        print(f"{label:28}{a:14.2f}{b:14.2f}{b / a:10.2f}")
        out.append(row(label.removesuffix(" (ms)"), b, "ms", baseline=a, baseline_label=raw_label))
    print(f"worker resident memory: {rss:.0f} MiB")
    print("goals: overhead p50 ≤ 2× raw (round trip), throughput ≥ 0.7× raw")
    out.append(row("worker resident memory", rss, "MiB"))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="tasks per round and side")
    parser.add_argument(
        "--rounds", type=int, default=10, help="rounds per side, alternating (the median round is reported)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.rounds, args.database_url, args.json))
