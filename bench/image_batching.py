"""`make bench`: image jobs through a real worker with queue-level batching off and on, side by side.

Two `-P prefork -c 1` workers on one private redis-server (database 0: batching off, database 1: on),
each warmed with one job (the model loads in the pool child). Each round queues N compatible
text-to-image jobs at once on one side and waits for every result; rounds alternate between the sides
so that noise from a shared machine hits both alike. Reported per side: jobs/s (median over rounds),
latency from queueing to the stored result (median over all jobs) and pipeline calls per round (from
each result's `timings.batch_size`, not from timing); and the median on/off ratio of adjacent rounds,
which a load that drifts during the run skews least.

By default the model is the tests' tiny diffusers pipeline on the CPU (built in a temporary folder),
which measures the worker's side of batching, not a GPU's. On a GPU worker, name a configured preset
whose weights are on the machine, e.g.:

    python -m bench.image_batching --preset sd-turbo --jobs 32 --max-size 8 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

from bench.figures import row, write
from config.settings import Settings, load_settings
from tests.services import ROOT, RedisServer, WorkerProcess
from wire import keys
from wire.broker import create_producer
from wire.contract import ImageJob, JobResult, Outcome
from wire.routing import queue_for, task_for

TINY_ENV = {
    "ATELIER_DEFAULT_IMAGE_PRESET": "tiny",
    "ATELIER_IMAGE_PRESETS__TINY__DEVICE": "cpu",
    "ATELIER_IMAGE_PRESETS__TINY__DTYPE": "float32",
    "ATELIER_IMAGE_PRESETS__TINY__DEFAULT_STEPS": "2",
    "ATELIER_IMAGE_PRESETS__TINY__MAX_STEPS": "4",
    "ATELIER_IMAGE_PRESETS__TINY__SIZES": "[[64, 64]]",
}

NAMES = (
    ("throughput, median round", "jobs/s"),
    ("latency p50, queued→result", "s"),
    ("pipeline calls per round", "calls"),
)


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_IMAGE_BATCH")}
    env.update(
        ATELIER_REDIS_URL=settings.redis_url,
        ATELIER_EVENTS__STREAM=settings.events.stream,
        ATELIER_ARTIFACTS__STORE="redis",
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    env.update(extra)
    return env


def _jobs(n: int, preset: str, size: tuple[int, int], tag: int) -> list[ImageJob]:
    width, height = size
    return [
        ImageJob(
            preset=preset,
            options={"prompt": f"a lighthouse, study {tag}-{i}", "width": width, "height": height, "seed": i},
        )
        for i in range(n)
    ]


def _round(settings: Settings, jobs: list[ImageJob], timeout: float) -> dict[str, Any]:
    """Queue all jobs at once; wait for every result. Latency: queued → result seen in Redis."""
    app = create_producer(settings.redis_url, settings.visibility_timeout_s)
    client = redis.Redis.from_url(settings.redis_url)
    result_keys = [keys.result_key(j.id) for j in jobs]
    sent: list[float] = []
    began = time.perf_counter()
    for job in jobs:
        sent.append(time.perf_counter())
        app.send_task(
            task_for("image"), args=[job.model_dump(mode="json")], task_id=job.id, queue=queue_for("image")
        )
    seen: dict[int, float] = {}
    stored: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(jobs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {len(jobs)} jobs finished in {timeout} s")
        values = client.mget(result_keys)
        now = time.perf_counter()
        for i, value in enumerate(values):
            if value is not None and i not in seen:
                seen[i], stored[i] = now, value
        time.sleep(0.01)
    finished = max(seen.values())
    results = [JobResult.model_validate_json(stored[i]) for i in range(len(jobs))]
    failed = [r for r in results if r.status is not Outcome.SUCCEEDED]
    if failed:
        raise RuntimeError(f"{len(failed)} jobs did not succeed: {failed[0].error}")
    calls = sum(1 / r.metadata["timings"]["batch_size"] for r in results)
    client.close()
    return {
        "throughput": len(jobs) / (finished - began),
        "latency": [seen[i] - sent[i] for i in range(len(jobs))],
        "calls": round(calls),
    }


def main(
    n: int, rounds: int, max_size: int, max_wait_ms: int, preset: str | None, json_path: Path | None = None
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="atelier-bench-batch-"))
    extra: dict[str, str] = {}
    size: tuple[int, int] = (64, 64)
    if preset is None:
        from tests.models.image.tiny import build_pipeline

        folder = build_pipeline(tmp / "tiny")
        extra = {**TINY_ENV, "ATELIER_IMAGE_PRESETS__TINY__MODEL": str(folder)}
    else:
        configured = load_settings().image_presets
        if preset not in configured:
            raise SystemExit(f"no image preset called {preset!r}; configured: {', '.join(configured)}")
        width, height = configured[preset].sizes[0]
        size = (width, height)
    preset_name = preset or "tiny"
    device = load_settings().image_presets[preset].device if preset is not None else "cpu"
    server = RedisServer(tmp)
    server.start()
    workers: dict[str, WorkerProcess] = {}
    sides: dict[str, Settings] = {}
    try:
        for name, db, batch in (("off", 0, 1), ("on", 1, max_size)):
            url = server.url.rsplit("/", 1)[0] + f"/{db}"
            sides[name] = load_settings(redis_url=url, events={"stream": f"bench-batch:{name}:events"})
            env = _env(
                sides[name],
                {
                    **extra,
                    "ATELIER_IMAGE_BATCH__MAX_SIZE": str(batch),
                    "ATELIER_IMAGE_BATCH__MAX_WAIT_MS": str(max_wait_ms),
                },
            )
            workers[name] = WorkerProcess(env, queue_for("image"), tmp / f"worker-{name}.log")
        with ThreadPoolExecutor(2) as pool:  # both start and warm at once (the model loads in the child)
            list(pool.map(lambda w: w.start(timeout=120), workers.values()))
            list(pool.map(lambda side: _round(side, _jobs(1, preset_name, size, -1), 600), sides.values()))
        measured: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
        for r in range(rounds):
            for name, side in sides.items():
                jobs = _jobs(n, preset_name, size, r)
                measured[name].append(_round(side, jobs, timeout=600))
    finally:
        for worker in workers.values():
            worker.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    _report(measured, n, rounds, max_size, max_wait_ms, preset_name, json_path, device)


def _report(
    measured: dict[str, list[dict[str, Any]]],
    n: int,
    rounds: int,
    max_size: int,
    max_wait_ms: int,
    preset: str,
    json_path: Path | None = None,
    device: str = "cpu",
) -> None:
    def tput(side: str) -> float:
        return statistics.median(m["throughput"] for m in measured[side])

    def latency(side: str) -> float:
        return statistics.median(x for m in measured[side] for x in m["latency"])

    def calls(side: str) -> float:
        return statistics.median(m["calls"] for m in measured[side])

    print(
        f"Image batching on the worker — preset {preset}, {rounds} rounds × {n} compatible jobs queued at once, "
        f"one -P prefork -c 1 worker per side, one private Redis"
    )
    print(f"{'':34}{'batching off':>14}{f'on (≤{max_size}, {max_wait_ms} ms)':>20}{'ratio':>8}")
    rows = [
        ("throughput (jobs/s, median)", tput("off"), tput("on"), "{:14.2f}{:20.2f}"),
        ("latency p50 (s, queued→result)", latency("off"), latency("on"), "{:14.2f}{:20.2f}"),
        ("pipeline calls per round", calls("off"), calls("on"), "{:14.0f}{:20.0f}"),
    ]
    for label, off, on, fmt in rows:
        print(f"{label:34}" + fmt.format(off, on) + f"{on / off:8.2f}")
    paired = statistics.median(
        on["throughput"] / off["throughput"] for off, on in zip(measured["off"], measured["on"], strict=True)
    )
    print(f"{'throughput ratio of paired rounds (median)':62}{paired:8.2f}")
    for side in ("off", "on"):
        each = ", ".join(f"{m['throughput']:.2f}" for m in measured[side])
        print(f"  jobs/s per round, batching {side}: {each}")
    if json_path is not None:
        off_label = "batching off"
        on_label = f"batching on (≤{max_size}, {max_wait_ms} ms)"
        out = [
            row(f"{label}, {on_label}", value_on, unit, baseline=value_off, baseline_label=off_label)
            for (_, value_off, value_on, _), (label, unit) in zip(rows, NAMES, strict=True)
        ]
        out.append(row(f"throughput ratio of paired rounds (median), {on_label} ÷ off", paired, "×"))
        title = f"Image batching on the worker, preset {preset}, {rounds} rounds × {n} jobs"
        write(json_path, "image_batching", title, out, {"preset": preset, "device": device})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs queued at once per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-size", type=int, default=4, help="image_batch.max_size of the 'on' side")
    parser.add_argument("--max-wait-ms", type=int, default=50, help="image_batch.max_wait_ms of both sides")
    parser.add_argument(
        "--preset", default=None, help="a configured image preset (default: the tiny CPU one)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args()
    main(args.jobs, args.rounds, args.max_size, args.max_wait_ms, args.preset, args.json)
