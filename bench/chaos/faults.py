"""The faults, each a coroutine that waits a random while into a run, breaks one thing, and heals it
(or leaves the healing to the system, where healing itself is what is tested). Each returns a short
description of what it did and when, for the table."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.chaos.stack import Stack


@dataclass
class FaultContext:
    stack: Stack
    rng: random.Random
    window_s: float
    """How long the run's jobs keep being asked for; faults land inside it."""
    running: Callable[[], Awaitable[int]]
    """How many of this run's jobs are running now (from the database)."""


Fault = Callable[[FaultContext], Awaitable[str]]


async def _when_running(ctx: FaultContext, at_least: int = 1, timeout: float = 20.0) -> float:
    """Wait a random delay, then until a job is running; the seconds waited."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.sleep(ctx.rng.uniform(0.3, ctx.window_s * 0.6))
    while loop.time() - began < timeout and await ctx.running() < at_least:
        await asyncio.sleep(0.1)
    return loop.time() - began


async def worker_child_kill(ctx: FaultContext) -> str:
    waited = await _when_running(ctx)
    for _ in range(20):  # a child that is running a job (busy on the CPU), else any child
        index = ctx.rng.randrange(len(ctx.stack.workers))
        children = ctx.stack.workers[index].children()
        if children:
            os.kill(children[0], signal.SIGKILL)
            return f"kill -9 child of worker {index} at {waited:.1f} s"
        await asyncio.sleep(0.1)
    return "no child found"


async def worker_kill(ctx: FaultContext) -> str:
    waited = await _when_running(ctx)
    index = ctx.rng.randrange(len(ctx.stack.workers))
    down = ctx.rng.uniform(0.5, 4.0)
    worker = ctx.stack.workers[index]
    if worker.process is not None:
        os.killpg(worker.process.pid, signal.SIGKILL)
        await asyncio.to_thread(worker.process.wait, 10)
        worker.process = None
    await asyncio.sleep(down)
    await ctx.stack.restart_worker(index)
    return f"kill -9 worker {index} (parent and child) at {waited:.1f} s, back {down:.1f} s later"


async def bot_restart(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s))
    hard = ctx.rng.random() < 0.6
    down = ctx.rng.uniform(0.0, 3.0)
    await ctx.stack.stop_bot(hard)
    await asyncio.sleep(down)
    await ctx.stack.start_bot()
    return f"bot {'kill -9' if hard else 'SIGTERM'}, down {down:.1f} s"


async def scheduler_restart(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s))
    scheduler = ctx.stack.scheduler
    assert scheduler is not None
    hard = ctx.rng.random() < 0.5
    down = ctx.rng.uniform(0.5, 4.0)
    await asyncio.to_thread(scheduler.stop, hard)
    await asyncio.sleep(down)
    scheduler.start()
    return f"scheduler {'kill -9' if hard else 'SIGTERM'}, down {down:.1f} s"


async def redis_restart_queued(ctx: FaultContext) -> str:
    """Redis restarted while jobs wait on the broker (its queues, streams and keys are gone)."""
    await asyncio.sleep(ctx.rng.uniform(0.5, ctx.window_s * 0.8))
    await asyncio.to_thread(ctx.stack.redis.restart)
    return "redis restarted with jobs queued (nothing persisted)"


async def redis_restart_unread(ctx: FaultContext) -> str:
    """The bot stopped, so results pile up unread on the stream; then Redis restarts and loses them."""
    await asyncio.sleep(ctx.rng.uniform(0.2, 1.0))
    await ctx.stack.stop_bot(hard=False)
    await asyncio.sleep(ctx.window_s + ctx.rng.uniform(1.0, 3.0))  # workers finish; nobody reads
    await asyncio.to_thread(ctx.stack.redis.restart)
    await ctx.stack.start_bot()
    return "bot stopped, results left unread, redis restarted, bot back"


async def postgres_restart(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.3, ctx.window_s))
    mode = ctx.rng.choice(["fast", "immediate"])
    await asyncio.to_thread(ctx.stack.postgres.restart, mode)
    return f"postgres restart -m {mode}"


async def discord_5xx(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s * 0.8))
    status = ctx.rng.choice([500, 502, 503])
    count = ctx.rng.randint(3, 10)
    ctx.stack.sandbox.inject_failures("*", status, count)
    return f"next {count} REST calls answered {status}"


async def discord_429(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s * 0.8))
    retry_after = round(ctx.rng.uniform(0.2, 2.0), 2)
    count = ctx.rng.randint(2, 6)
    is_global = ctx.rng.random() < 0.3
    ctx.stack.sandbox.rate_limit("*", retry_after, count, is_global=is_global)
    return f"next {count} REST calls 429 retry_after {retry_after} s{' (global)' if is_global else ''}"


async def gateway_resume(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s))
    before = ctx.stack.sandbox.gateway.count("resume")
    await ctx.stack.sandbox.drop_gateway()
    await ctx.stack.sandbox.wait_for_gateway("resume", count=before + 1, timeout=60)
    return "gateway dropped; the bot RESUMEd"


async def gateway_identify(ctx: FaultContext) -> str:
    await asyncio.sleep(ctx.rng.uniform(0.2, ctx.window_s))
    before = ctx.stack.sandbox.gateway.count("identify")
    await ctx.stack.sandbox.invalidate_session(resumable=False)
    await ctx.stack.sandbox.wait_for_gateway("identify", count=before + 1, timeout=60)
    return "session invalidated; the bot IDENTIFYed afresh"


async def worker_cut(ctx: FaultContext) -> str:
    waited = await _when_running(ctx)
    index = ctx.rng.randrange(len(ctx.stack.proxies))
    down = ctx.rng.uniform(2.0, 12.0)
    ctx.stack.proxies[index].sever()
    await asyncio.sleep(down)
    ctx.stack.proxies[index].mend()
    return f"worker {index} cut off from redis at {waited:.1f} s for {down:.1f} s"


FAULTS: dict[str, Fault] = {
    "worker child kill -9": worker_child_kill,
    "worker kill -9": worker_kill,
    "bot restart": bot_restart,
    "scheduler restart": scheduler_restart,
    "redis restart, jobs queued": redis_restart_queued,
    "redis restart, results unread": redis_restart_unread,
    "postgres restart": postgres_restart,
    "discord 5xx burst": discord_5xx,
    "discord 429 burst": discord_429,
    "gateway drop → RESUME": gateway_resume,
    "gateway → fresh IDENTIFY": gateway_identify,
    "worker cut from redis": worker_cut,
}
