"""The scheduler process: run_scheduler fires timers beside the reconciler and stops when told, and a
real scheduler process killed in the middle of a handler leaves its timer to another scheduler, the
handler's idempotent effect applied exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.db.engine import upgrade_database
from bot.scheduling.clock import ManualClock
from bot.scheduling.handlers import HandlerRegistry, TimerContext
from bot.scheduling.process import run_scheduler
from bot.scheduling.repository import Timer, TimerRepository, TimerState
from bot.scheduling.runner import TimerRunner
from config.settings import SchedulerSettings, Settings
from tests.bot.scheduling.conftest import START
from tests.bot.scheduling.scheduler_child import EFFECT_KIND, effect_handler, effects, firings
from tests.conftest import settings_env
from tests.polling import wait_until
from tests.services import ROOT
from wire.contract import utcnow

CHILD = Path(__file__).with_name("scheduler_child.py")
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


async def test_run_scheduler_fires_timers_beside_the_reconciler_until_stopped(
    settings: Settings, database_url: str
) -> None:
    settings = settings.model_copy(
        update={"database_url": database_url, "scheduler": SchedulerSettings(poll_s=1, lease_s=60)}
    )
    clock = ManualClock(START)
    fired: list[tuple[str, bool]] = []

    async def handler(timer: Timer, context: TimerContext) -> None:
        fired.append((timer.key, "runtime" in context.services))

    stop = asyncio.Event()
    scheduler = asyncio.create_task(
        run_scheduler(
            settings, stop, clock=clock, handlers=HandlerRegistry({"k": handler}), owner="in-process"
        )
    )
    timers: TimerRepository | None = None
    try:
        await wait_until(lambda: clock.sleepers >= 1 or scheduler.done(), timeout=120, interval=0.02)
        assert not scheduler.done(), scheduler.exception()
        timers = TimerRepository.open(database_url, clock)  # the scheduler migrated the database
        await timers.schedule("k", "in-process", START, {})
        clock.advance(1)  # its next poll
        await wait_until(lambda: fired or scheduler.done(), timeout=120, interval=0.02)
        assert fired == [("in-process", True)]
        stop.set()
        await asyncio.wait_for(scheduler, timeout=120)
        done = await timers.get("in-process")
        assert done is not None and (done.state, done.lease_owner) == (TimerState.DONE, "in-process")
    finally:
        scheduler.cancel()
        if timers is not None:
            await timers.close()


async def test_a_scheduler_killed_mid_fire_leaves_the_timer_to_another_and_its_effect_happens_once(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url  # a SQLite file under tmp_path
    await upgrade_database(url)
    timers = TimerRepository.open(url)
    second_repository: TimerRepository | None = None
    key = "challenge:1:voting-opens"
    try:
        await timers.schedule(EFFECT_KIND, key, utcnow() - timedelta(seconds=1), {"phase": "voting"})
        workdir = tmp_path / "child"
        workdir.mkdir()
        (workdir / "hold").touch()  # the child's handler waits while this exists
        env = settings_env(settings, ATELIER_SCHEDULER__POLL_S="0.1", ATELIER_SCHEDULER__LEASE_S="600")
        python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
        log_path = tmp_path / "child.log"
        with log_path.open("wb") as log:
            child = subprocess.Popen(
                [str(python), str(CHILD), str(workdir)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:

            def handler_running() -> list[str]:
                if child.poll() is not None:
                    raise AssertionError(
                        f"the scheduler exited ({child.returncode}):\n{log_path.read_text()}"
                    )
                return firings(workdir)

            await wait_until(handler_running, timeout=120, interval=0.05)
            child.send_signal(signal.SIGKILL)  # after the handler's effect, before `complete`
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL
        assert [line.split() for line in firings(workdir)] == [[str(child.pid), key, "1"]]
        assert effects(workdir) == [(key, child.pid)]
        held = await timers.get(key)
        assert held is not None and held.lease_expires_at is not None
        assert (held.state, held.attempts, held.lease_owner) == (TimerState.PENDING, 1, f"child-{child.pid}")

        (workdir / "hold").unlink()  # the second scheduler's handler does not wait
        clock = ManualClock(held.lease_expires_at - timedelta(seconds=1))
        second_repository = TimerRepository.open(url, clock)
        second = TimerRunner(
            second_repository,
            HandlerRegistry({EFFECT_KIND: effect_handler(workdir)}),
            clock,
            owner="second",
            lease_s=5,
        )
        assert (await second.run_once()).claimed == 0  # the killed scheduler's lease still holds
        clock.advance(1)  # ... and now it has lapsed
        assert (await second.run_once()).fired == [key]

        assert len(firings(workdir)) == 2  # the handler ran twice ...
        assert effects(workdir) == [(key, child.pid)]  # ... and its effect happened once
        done = await timers.get(key)
        assert done is not None
        assert (done.state, done.attempts, done.lease_owner) == (TimerState.DONE, 2, "second")
        assert (await second.run_once()).claimed == 0
    finally:
        await timers.close()
        if second_repository is not None:
            await second_repository.close()


async def test_the_scheduler_command_runs_until_sigterm(settings: Settings, tmp_path: Path) -> None:
    """`atelier scheduler` starts both loops and, on SIGTERM, finishes its passes and exits cleanly."""
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        command = subprocess.Popen(
            [str(python), "-m", "bot.cli.main", "scheduler"],
            env=settings_env(settings, ATELIER_SCHEDULER__POLL_S="0.1"),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def started() -> bool:
            if command.poll() is not None:
                raise AssertionError(f"the scheduler exited ({command.returncode}):\n{log_path.read_text()}")
            return "timer runner" in log_path.read_text() and "started" in log_path.read_text()

        await wait_until(started, timeout=120, interval=0.05)
        command.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(command.wait, 60)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait(timeout=60)
    assert returncode == 0, log_path.read_text()
    assert "stopped" in log_path.read_text()
