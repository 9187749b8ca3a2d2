"""The chaos harness: start the stack, then runs one after another, each asking for jobs while one fault
lands at a random moment; a challenge lives through the runs beside them. Then the account.

A run: members send /write (half at once, so jobs queue, half spread over the window); the run's fault
waits a random while and strikes; everything is brought back up; the harness waits until every job it
asked for is delivered (or the settle time runs out) and accounts for each.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.chaos.challenge import ChallengeReport, ChallengeTrack
from bench.chaos.faults import FAULTS, FaultContext
from bench.chaos.ledger import (
    JobAsk,
    Outcome,
    Tally,
    account_job,
    channel_messages,
    fetch_jobs,
    stored_by_id,
)
from bench.chaos.stack import Stack, StackConfig

SETTLED_UNANSWERED_S = 8.0
CHALLENGE_EVERY_S = 120.0
"""Challenges start this far apart, so their deadlines fall among different runs' faults."""
"""An interaction with no job this long after it was sent has had its chance (Discord's window is 3 s)."""


@dataclass(frozen=True)
class ChaosOptions:
    repeat: int = 1
    """Runs per fault, each with its own timing."""
    jobs_per_run: int = 6
    window_s: float = 4.0
    settle_s: float = 150.0
    challenges: int = 1
    workers: int = 3
    job_s: float = 1.0
    artifacts: str = "local"
    seed: int = 0
    faults: tuple[str, ...] = tuple(FAULTS)
    workdir: Path | None = None


@dataclass
class RunReport:
    number: int
    fault: str
    detail: str = ""
    jobs: Tally = field(default_factory=Tally)
    seconds: float = 0.0
    retried: int = 0
    """Jobs that ran more than once (a worker died or lost its link under them)."""
    slowest: float = 0.0
    """The longest wait from a job's result to its delivery, in seconds."""
    slowest_job: str = ""


@dataclass
class ChaosReport:
    runs: list[RunReport] = field(default_factory=list)
    challenges: list[ChallengeReport] = field(default_factory=list)
    seconds: float = 0.0
    workdir: str = ""

    @property
    def lost(self) -> int:
        return sum(r.jobs.lost for r in self.runs) + sum(
            c.votes.lost + c.announcements.lost for c in self.challenges
        )

    @property
    def duplicated(self) -> int:
        return sum(r.jobs.duplicated for r in self.runs) + sum(
            c.votes.duplicated + c.announcements.duplicated for c in self.challenges
        )

    @property
    def problems(self) -> list[str]:
        found = [f"run {r.number} ({r.fault}): {p}" for r in self.runs for p in r.jobs.problems]
        for c in self.challenges:
            found += [f"challenge {c.number}: {p}" for p in c.votes.problems + c.announcements.problems]
            if c.error:
                found.append(f"challenge {c.number}: {c.error}")
        return found


def _dsn(stack: Stack) -> str:
    return stack.postgres.url.replace("postgresql+asyncpg://", "postgresql://")


async def _running(dsn: str) -> int:
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return 0
    try:
        return int(await connection.fetchval("SELECT count(*) FROM jobs WHERE status = 'running'"))
    except (OSError, asyncpg.PostgresError):
        return 0
    finally:
        await connection.close()


async def _rows(dsn: str) -> dict[str, dict[str, object]]:
    for _ in range(60):
        try:
            return await fetch_jobs(dsn)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await asyncio.sleep(1)
    return {}


async def _settle(stack: Stack, asks: list[JobAsk], timeout: float) -> None:
    """Wait until every ask is delivered, or clearly never became a job."""
    dsn = _dsn(stack)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await _rows(dsn)
        now = time.monotonic()
        pending = [
            a
            for a in asks
            if (a.handle.token in rows and rows[a.handle.token]["delivered_at"] is None)
            or (a.handle.token not in rows and now - a.sent_at < SETTLED_UNANSWERED_S)
        ]
        if not pending:
            return
        await asyncio.sleep(0.5)


async def job_run(
    stack: Stack, number: int, fault: str, rng: random.Random, options: ChaosOptions, members: list[int]
) -> RunReport:
    report = RunReport(number, fault)
    began = time.monotonic()
    asks: list[JobAsk] = []

    async def ask(index: int) -> None:
        prompt = f"run {number} job {index} n{rng.randrange(10**6)}"
        user = rng.choice(members)
        handle = await stack.sandbox.send_slash_command("write", {"prompt": prompt, "length": 32}, user=user)
        asks.append(JobAsk(number, prompt, user, handle, time.monotonic()))

    async def ask_all() -> None:
        burst = options.jobs_per_run // 2
        for index in range(burst):
            await ask(index)
        for index in range(burst, options.jobs_per_run):
            await asyncio.sleep(options.window_s / max(1, options.jobs_per_run - burst))
            await ask(index)

    context = FaultContext(stack, rng, options.window_s, lambda: _running(_dsn(stack)))
    detail, _ = await asyncio.gather(FAULTS[fault](context), ask_all())
    report.detail = detail
    await stack.ensure_up()
    await _settle(stack, asks, options.settle_s)
    rows = await _rows(_dsn(stack))
    messages = channel_messages(stack.sandbox)
    originals = stored_by_id(stack.sandbox)
    for item in asks:
        outcome: Outcome = account_job(item, rows, messages, originals)
        report.jobs.add(outcome, f"job ask {item.prompt!r}")
        report.retried += outcome.attempts > 1
        if outcome.delivery_s > report.slowest:
            report.slowest, report.slowest_job = outcome.delivery_s, outcome.detail
    report.seconds = time.monotonic() - began
    return report


async def run_chaos(options: ChaosOptions, progress: bool = True) -> ChaosReport:
    rng = random.Random(options.seed)
    root = options.workdir or Path(tempfile.mkdtemp(prefix="atelier-chaos-"))
    stack = Stack(
        root, StackConfig(workers=options.workers, job_s=options.job_s, artifacts=options.artifacts)
    )
    report = ChaosReport(workdir=str(root))
    began = time.monotonic()
    try:
        await stack.start()
        members = []
        for index in range(8):
            user = stack.sandbox.world.add_user(f"member{index}")
            stack.sandbox.world.add_member(stack.sandbox.guild_id, user)
            members.append(user)
        schedule = [name for _ in range(options.repeat) for name in options.faults]
        rng.shuffle(schedule)
        tracks = asyncio.gather(
            *(
                ChallengeTrack(stack, n + 1, random.Random(rng.random()), _dsn(stack)).run(
                    n * CHALLENGE_EVERY_S
                )
                for n in range(options.challenges)
            )
        )
        for number, fault in enumerate(schedule, start=1):
            run = await job_run(stack, number, fault, rng, options, members)
            report.runs.append(run)
            if progress:
                print(
                    f"  run {number:3d} {fault:30s} {dict(run.jobs.counts)} ({run.seconds:.0f} s; "
                    f"slowest delivery {run.slowest:.1f} s, {run.slowest_job})",
                    flush=True,
                )
        report.challenges = list(await tracks)
    finally:
        report.seconds = time.monotonic() - began
        await stack.stop()
    return report
