"""The scheduler process (`atelier scheduler`): the job reconciler and the timer runner side by side.

Both run until `stop` is set; each finishes the pass it is in (the timer runner hands back the timers
of its batch it has not started). Several scheduler processes may run at once: the reconciler's
changes are compare-and-sets, and each timer is leased to one scheduler at a time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, cast

from bot.db import JobRepository
from bot.db.database import Database, open_database
from bot.pipeline.reconciler import Reconciler
from bot.runtime import Runtime, open_runtime
from bot.scheduling.clock import Clock
from bot.scheduling.handlers import HandlerRegistry, default_handlers
from bot.scheduling.repository import TimerRepository
from bot.scheduling.runner import TimerRunner, exponential_backoff
from config.settings import Settings

log = logging.getLogger(__name__)


def _job_repository(runtime: Runtime) -> JobRepository:
    """The runtime's job repository, whichever name it goes by (`jobs`, formerly `repo`)."""
    repository: Any = getattr(runtime, "jobs", None)
    if repository is None:
        repository = getattr(runtime, "repo")  # noqa: B009 - the attribute was renamed
    return cast(JobRepository, repository)


def _shared_database(runtime: Runtime) -> Database | None:
    """The runtime's own Database, if it opens one that repositories share (None otherwise)."""
    return cast("Database | None", getattr(runtime, "database", None))


def timer_runner(
    settings: Settings,
    timers: TimerRepository,
    handlers: HandlerRegistry,
    *,
    clock: Clock | None = None,
    owner: str | None = None,
    services: dict[str, Any] | None = None,
) -> TimerRunner:
    """A timer runner configured by `settings.scheduler`."""
    config = settings.scheduler
    return TimerRunner(
        timers,
        handlers,
        clock,
        owner,
        lease_s=config.lease_s,
        poll_s=config.poll_s,
        max_attempts=config.max_attempts,
        backoff=exponential_backoff(config.retry_base_s, 2.0, config.retry_max_s),
        batch_size=config.batch_size,
        services=services,
    )


async def run_scheduler(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    handlers: HandlerRegistry | None = None,
    owner: str | None = None,
) -> None:
    """Migrate the database, then reconcile jobs and fire timers until `stop` is set.

    `handlers` defaults to the registered feature handlers (`handlers.default_handlers()`); `clock`
    (the system's by default) drives the timers only: the reconciler keeps to the wall clock. If
    either loop fails, the other is cancelled and the error propagates (the supervisor restarts).
    """
    registry = handlers if handlers is not None else default_handlers()
    async with open_runtime(settings) as runtime:  # migrates to head
        shared = _shared_database(runtime)
        database = shared if shared is not None else open_database(settings.database_url)
        timers = TimerRepository(database, clock)
        try:
            reconciler = Reconciler(runtime.service, _job_repository(runtime), settings)
            runner = timer_runner(
                settings,
                timers,
                registry,
                clock=clock,
                owner=owner,
                services={"runtime": runtime, "settings": settings},
            )
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(reconciler.run_forever(stop), name="reconciler")
                    group.create_task(runner.run_forever(stop), name="timer-runner")
            except ExceptionGroup as failed:
                if len(failed.exceptions) == 1:
                    raise failed.exceptions[0] from failed
                raise
        finally:
            if shared is None:
                await database.close()


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stop` (call from inside the running loop)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
