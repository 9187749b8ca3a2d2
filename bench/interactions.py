"""`make bench` (Discord part): slash commands injected at a steady rate through the local server.

The real bot runs as its own process (`atelier bot`) against an in-process `SandboxServer`; every
interaction is a `/write`, so each one makes the bot validate options, store a job, enqueue it and
defer. Reported: how many were answered within Discord's 3 s window, the defer latency (interaction
dispatched → initial response received by the server) p50/p99, and the bot's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from bench.pipeline import private_redis
from bot.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
LIFTED_LIMITS = (
    "DAILY_JOBS",
    "MAX_DAILY_JOBS",
    "CONCURRENT_JOBS",
    "MAX_CONCURRENT_JOBS",
    "QUEUE_CAP",
    "MAX_QUEUE_CAP",
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _wait_for_commands(server: SandboxServer, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.commands(server.guild_id) and not server.commands():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never synced its commands")
        await asyncio.sleep(0.2)


async def main(rate: float, seconds: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="atelier-bot-bench-"))
    token = "bench." + uuid.uuid4().hex
    redis_proc, redis_url = private_redis(tmp)  # the queued jobs go nowhere near a real queue
    try:
        await _run(tmp, token, redis_url, rate, seconds)
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)


async def _run(tmp: Path, token: str, redis_url: str, rate: float, seconds: float) -> None:
    async with SandboxServer(token=token) as server:
        env = {
            **os.environ,
            "DISCORD_TOKEN": token,
            "ATELIER_REDIS_URL": redis_url,
            "DISCORD_API_BASE": server.api_base,
            "DISCORD_GATEWAY_URL": server.gateway_url,
            "ATELIER_DISCORD_TEST_GUILD_ID": str(server.guild_id),
            "ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            "ATELIER_DATA_DIR": str(tmp),
            "ATELIER_EVENTS__STREAM": f"bench:{uuid.uuid4().hex[:8]}:events",
            "ATELIER_LOG_LEVEL": "WARNING",
            # One member sends every interaction and no worker runs: lift the per-member limits so
            # each one takes the whole path (policy, admission, store, defer) instead of a refusal.
            **{f"ATELIER_MODERATION__{key}": "10000000" for key in LIFTED_LIMITS},
        }
        atelier = str(Path(sys.executable).with_name("atelier"))
        log = (tmp / "bot.log").open("wb")
        bot = subprocess.Popen([atelier, "bot"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await _wait_for_commands(server)
            await asyncio.sleep(1.0)
            latencies, late, failed = await _drive(server, rate, seconds)
            rss = psutil.Process(bot.pid).memory_info().rss / 2**20
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    total = len(latencies) + failed
    print(
        f"Interactions through the local Discord server — {rate:.0f}/s for {seconds:.0f} s, one bot process"
    )
    print(
        f"sent {total}, deferred in time {len(latencies) - late}/{total}, late (>3 s) {late}, unanswered {failed}"
    )
    if latencies:
        print(
            f"defer latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {_pct(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )
    print(f"bot resident memory after the run: {rss:.0f} MiB")
    print("goal: every interaction deferred within 3 s; p99 under 100 ms locally")


async def _drive(server: SandboxServer, rate: float, seconds: float) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    late = failed = 0

    async def one(n: int) -> None:
        nonlocal late, failed
        sent = time.monotonic()
        handle = await server.send_slash_command(
            "write", {"prompt": f"a haiku about rain #{n}", "length": 32}
        )
        try:
            await handle.wait_responded(5.0)
        except TimeoutError:
            failed += 1
            return
        latency = time.monotonic() - sent
        latencies.append(latency)
        if latency > 3.0 or handle.rejections:
            late += 1

    tasks = []
    start = time.monotonic()
    count = int(rate * seconds)
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return latencies, late, failed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="interaction load through the local Discord server")
    parser.add_argument("--rate", type=float, default=50.0, help="interactions per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))
