"""`make bench` (queues): how the job pipeline scales, with admission and fair sharing on.

1. Throughput of instant-model jobs (the `chaos` preset at zero seconds: a real worker task, a real
   result, no model) with 1, 2 and 4 Celery workers (`-P prefork -c 1` each): jobs submitted at once by
   20 members on 4 servers, timed until every result is recorded.
2. Cost per job as the waiting backlog grows to 10,000: with no worker running, jobs are submitted
   until the backlog reaches each size (the submit cost of the last jobs is measured there: admission,
   the fair key and the queue position all read the backlog); then 2 workers drain a slice of it,
   timed, with the bot's CPU per job (each result's write also releases the next waiting job).

The bot side (job service, admission, event consumer) runs in this process on a fresh SQLite file (or
`--database-url`); its CPU time is this process's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.figures import provenance
from bench.pipeline import private_redis
from bot.db.jobs import JobRecord
from bot.db.status import TERMINAL_STATUSES
from bot.runtime import Runtime, open_runtime
from config.settings import Settings, load_settings
from tests.services import ROOT, WorkerProcess
from wire.contract import TextJob
from wire.events import AnyEvent, EventConsumer

SERVERS, MEMBERS = 4, 5
LIFTED = {
    "daily_jobs": 10**7,
    "max_daily_jobs": 10**7,
    "concurrent_jobs": 10**6,
    "max_concurrent_jobs": 10**6,
    "queue_cap": 10**6,
    "max_queue_cap": 10**6,
}


def _job(n: int) -> TextJob:
    return TextJob(
        options={"prompt": f"bench {n}"},
        preset="chaos",
        guild_id=1000 + n % SERVERS,
        user_id=2000 + n % (SERVERS * MEMBERS),
    )


class Bench:
    def __init__(self, tmp: Path, redis_url: str, database_url: str | None) -> None:
        self.tmp = tmp
        self.settings: Settings = load_settings(
            redis_url=redis_url,
            database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            events={"stream": f"bench:{os.getpid()}:queues", "group": "bench", "block_ms": 50},
            default_text_preset="chaos",
            text_presets={"chaos": {"model": "chaos"}},
            moderation=LIFTED,
        )
        self.done: dict[str, float] = {}
        self.workers: list[WorkerProcess] = []

    def worker_env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
            "PYTHONPATH": str(ROOT),
            "ATELIER_REDIS_URL": self.settings.redis_url,
            "ATELIER_DATABASE_URL": self.settings.database_url,
            "ATELIER_EVENTS__STREAM": self.settings.events.stream,
            "ATELIER_TEXT_PRESETS__CHAOS__MODEL": "chaos",
            "CHAOS_JOB_S": "0",
            "ATELIER_LOG_LEVEL": "INFO",
        }

    async def start_workers(self, count: int) -> None:
        for _ in range(count - len(self.workers)):
            worker = WorkerProcess(
                self.worker_env(),
                "gen.text",
                self.tmp / f"worker-{time.monotonic_ns()}.log",
                app="bench.chaos.worker_app",
            )
            await asyncio.to_thread(worker.start, 120.0)
            self.workers.append(worker)

    async def stop_workers(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in self.workers))
        self.workers = []

    async def consume(self, rt: Runtime, stop: asyncio.Event) -> None:
        async def batch(events: list[AnyEvent]) -> None:
            for record in await rt.service.apply_events(events):
                self._finished(record)

        async def one(event: AnyEvent) -> None:
            self._finished(await rt.service.apply_event(event))

        events = rt.settings.events
        consumer = EventConsumer(
            rt.redis,
            events.stream,
            events.group,
            "bench",
            one,
            block_ms=50,
            concurrency=rt.settings.event_handler_concurrency,
            batch_handler=batch,
        )
        await consumer.run(stop)

    def _finished(self, record: JobRecord | None) -> None:
        if record is not None and record.status in TERMINAL_STATUSES and record.id not in self.done:
            self.done[record.id] = time.monotonic()

    async def wait_done(self, count: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.done) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.done)} of {count} jobs finished")
            await asyncio.sleep(0.02)


def _cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


async def throughput(bench: Bench, rt: Runtime, workers: int, jobs: int, offset: int) -> dict[str, float]:
    await bench.start_workers(workers)
    await asyncio.sleep(1.0)
    base = len(bench.done)
    cpu, began = _cpu(), time.monotonic()
    for n in range(jobs):
        await rt.service.submit(_job(offset + n))
    await bench.wait_done(base + jobs)
    seconds = time.monotonic() - began
    result = {
        "workers": workers,
        "jobs": jobs,
        "jobs_per_s": jobs / seconds,
        "bot_cpu_ms_per_job": (_cpu() - cpu) / jobs * 1000,
    }
    print(
        f"  {workers} worker(s): {result['jobs_per_s']:.0f} jobs/s, bot CPU {result['bot_cpu_ms_per_job']:.2f} ms/job"
    )
    return result


async def backlog(
    bench: Bench, rt: Runtime, sizes: list[int], drain: int, offset: int
) -> list[dict[str, float]]:
    await bench.stop_workers()
    rows = []
    waiting = 0
    n = offset
    for size in sizes:
        timings = []
        while waiting < size:  # workers are down: every job past admission's capacity waits
            began = time.perf_counter()
            await rt.service.submit(_job(n))
            timings.append(time.perf_counter() - began)
            n += 1
            waiting += 1
        submit_ms = statistics.mean(timings[-100:]) * 1000
        take = min(drain, waiting)  # no more than are waiting
        base, cpu = len(bench.done), _cpu()
        await bench.start_workers(2)  # they drain while the second one boots: timed from the first result
        await bench.wait_done(base + take)
        finished = list(bench.done.values())[base : base + take]
        seconds = max(1e-9, finished[-1] - finished[0]) * take / max(1, take - 1)
        row = {
            "backlog": size,
            "submit_ms_per_job": submit_ms,
            "drained": take,
            "drain_jobs_per_s": take / seconds,
            "bot_cpu_ms_per_job": (_cpu() - cpu) / take * 1000,
        }
        await bench.stop_workers()
        waiting -= len(bench.done) - base  # what the workers took meanwhile
        rows.append(row)
        print(
            f"  backlog {size:6d}: submit {submit_ms:.2f} ms/job; draining with 2 workers "
            f"{row['drain_jobs_per_s']:.0f} jobs/s, bot CPU {row['bot_cpu_ms_per_job']:.2f} ms/job"
        )
    return rows


async def main(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="atelier-queue-bench-"))
    redis_proc, redis_url = private_redis(tmp)
    bench = Bench(tmp, redis_url, args.database_url)
    stop = asyncio.Event()
    report: dict[str, Any] = {"database": bench.settings.database_url.split("://")[0]}
    try:
        async with open_runtime(bench.settings) as rt:
            consumer = asyncio.create_task(bench.consume(rt, stop))
            print(
                f"Queue scaling — instant-model jobs, admission capacity {rt.settings.admission.queue_capacity}, "
                f"{SERVERS} servers × {MEMBERS} members, database {report['database']}"
            )
            report["throughput"] = []
            offset = 0
            for workers in args.workers:
                report["throughput"].append(await throughput(bench, rt, workers, args.jobs, offset))
                offset += args.jobs
            print(f"Cost per job as the waiting backlog grows (drain {args.drain} jobs at each size)")
            report["backlog"] = await backlog(bench, rt, args.backlog, args.drain, offset)
            stop.set()
            await consumer
    finally:
        await bench.stop_workers()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="queue scaling: workers, and the waiting backlog")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--jobs", type=int, default=400, help="jobs per throughput run")
    parser.add_argument("--backlog", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--drain", type=int, default=300, help="jobs drained at each backlog size")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps({**figures, **provenance()}, indent=2) + "\n")
