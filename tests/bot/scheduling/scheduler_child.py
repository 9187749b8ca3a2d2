"""A real scheduler process for tests: `python tests/bot/scheduling/scheduler_child.py WORKDIR`.

It runs `run_scheduler` (reconciler and timer runner, settings from the ATELIER_ environment) with one
handler, for timers of kind `EFFECT_KIND`, that:
1. applies its effect idempotently: a row keyed by the timer's key in WORKDIR/effects.db, inserted
   only if absent (a second firing adds nothing);
2. notes in WORKDIR/fired.log that it ran (process, key, attempt);
3. then waits as long as the file WORKDIR/hold exists: the test holds it there, kills the process,
   and so leaves the timer claimed, its effect applied, and `complete` never recorded.
The test's second runner uses the same handler, in its own process.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from bot.scheduling.handlers import Handler, HandlerRegistry, TimerContext
from bot.scheduling.repository import Timer

EFFECT_KIND = "test.effect"


def record_effect(workdir: Path, key: str) -> None:
    """The handler's effect, safe to repeat: at most one row per timer key."""
    connection = sqlite3.connect(workdir / "effects.db", timeout=30)
    try:
        with connection:  # commits
            connection.execute("CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, pid INTEGER)")
            connection.execute("INSERT OR IGNORE INTO effects (key, pid) VALUES (?, ?)", (key, os.getpid()))
    finally:
        connection.close()


def effects(workdir: Path) -> list[tuple[str, int]]:
    """The effect rows: (timer key, process that applied it)."""
    if not (workdir / "effects.db").exists():
        return []
    connection = sqlite3.connect(workdir / "effects.db", timeout=30)
    try:
        return [(key, pid) for key, pid in connection.execute("SELECT key, pid FROM effects ORDER BY key")]
    except sqlite3.OperationalError:  # no table yet
        return []
    finally:
        connection.close()


def firings(workdir: Path) -> list[str]:
    """One line per handler run: 'PID KEY ATTEMPT'."""
    log = workdir / "fired.log"
    return log.read_text().splitlines() if log.exists() else []


def effect_handler(workdir: Path) -> Handler:
    async def handler(timer: Timer, context: TimerContext) -> None:
        record_effect(workdir, timer.key)
        with (workdir / "fired.log").open("a") as log:
            log.write(f"{os.getpid()} {timer.key} {timer.attempts}\n")
        while (workdir / "hold").exists():
            await asyncio.sleep(0.02)

    return handler


async def main(workdir: Path) -> None:
    from bot.scheduling.process import run_scheduler, stop_on_signals
    from config.settings import load_settings

    stop = asyncio.Event()
    stop_on_signals(stop)
    handlers = HandlerRegistry({EFFECT_KIND: effect_handler(workdir)})
    await run_scheduler(load_settings(), stop, handlers=handlers, owner=f"child-{os.getpid()}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
