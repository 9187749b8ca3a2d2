"""Fires due timers: claim a batch under a lease, run each one's handler, record how it went.

A pass claims up to `batch_size` due timers, oldest due first, and runs their handlers one after
another in that order (two phases of one challenge that both fell due while no scheduler ran take
effect in order). Timers that fell due while no scheduler was running are simply due: the next pass
fires them. One handler's failure never stops the others: it is retried after `backoff(attempts)`
seconds and, after `max_attempts`, marked failed with its error.

No handler outlives its lease: each runs under `handler_timeout_s` (half the lease by default), and
a claimed timer whose lease has less than that left when its turn comes is handed back untried. So
while the schedulers' clocks agree, no two run the same timer at the same moment; a scheduler that
dies mid-handler leaves its timer to another once the lease lapses (see `handlers` on idempotence).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.scheduling.clock import Clock, SystemClock
from bot.scheduling.handlers import HandlerRegistry, TimerContext
from bot.scheduling.repository import Timer, TimerRepository

log = logging.getLogger(__name__)

Backoff = Callable[[int], float]
"""Attempts made so far (1 after the first failure) -> seconds to wait before the next one."""


def exponential_backoff(base_s: float = 30.0, factor: float = 2.0, max_s: float = 3600.0) -> Backoff:
    """base_s, base_s * factor, base_s * factor², ... never more than max_s."""
    if base_s < 0 or factor < 1 or max_s < 0:
        raise ValueError("backoff needs base_s >= 0, factor >= 1 and max_s >= 0")

    def delay(attempts: int) -> float:
        return float(min(max_s, base_s * factor ** max(0, attempts - 1)))

    return delay


def default_owner() -> str:
    """A name no other scheduler uses: host, process, and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    """What one pass did, by timer key."""

    claimed: int = 0
    fired: list[str] = field(default_factory=list)
    """Their handler succeeded and they are done."""
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Out of attempts: marked failed."""
    released: list[str] = field(default_factory=list)
    """Handed back untried (too little lease left, or the runner is stopping)."""
    lost: list[str] = field(default_factory=list)
    """Their outcome was refused: cancelled, rescheduled or taken over by another scheduler meanwhile."""


class TimerRunner:
    """Claims due timers and runs their handlers; run_forever is the scheduler's loop."""

    def __init__(
        self,
        repository: TimerRepository,
        handlers: HandlerRegistry,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_s: float = 120.0,
        poll_s: float = 5.0,
        max_attempts: int = 5,
        backoff: Backoff | None = None,
        *,
        batch_size: int = 20,
        handler_timeout_s: float | None = None,
        services: Mapping[str, Any] | None = None,
        unhandled_check_s: float = 600.0,
    ) -> None:
        if lease_s <= 0 or poll_s <= 0 or max_attempts < 1 or batch_size < 1:
            raise ValueError("lease_s and poll_s must be positive, max_attempts and batch_size at least 1")
        timeout = lease_s / 2 if handler_timeout_s is None else handler_timeout_s
        if not 0 < timeout < lease_s:
            raise ValueError("handler_timeout_s must be positive and shorter than the lease")
        self.repository = repository
        self.handlers = handlers
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or default_owner()
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.max_attempts = max_attempts
        self.backoff: Backoff = backoff or exponential_backoff()
        self.batch_size = batch_size
        self.handler_timeout_s = timeout
        self.services: Mapping[str, Any] = services or {}
        self.unhandled_check_s = unhandled_check_s
        self._next_unhandled_check: datetime | None = None

    async def run_once(self, stop: asyncio.Event | None = None) -> RunReport:
        """One pass: claim the due timers this runner can handle and fire them, oldest first.

        If `stop` is set during the pass, the timers not yet started are handed back.
        """
        now = self.clock.now()
        kinds = self.handlers.kinds()
        await self._warn_unhandled(now, kinds)
        claimed = await self.repository.claim_due(self.owner, now, self.lease_s, self.batch_size, kinds)
        report = RunReport(claimed=len(claimed))
        for index, timer in enumerate(claimed):
            if (stop is not None and stop.is_set()) or not self._lease_allows_a_run(timer):
                await self._release(claimed[index:], report)
                break
            try:
                await self._fire(timer, report)
            except Exception:  # recording the outcome failed (the database): its lease will lapse
                log.exception("could not record the outcome of timer %s (%s)", timer.key, timer.kind)
        return report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set: at once while full batches come, else every poll_s."""
        log.info("timer runner %s started (kinds: %s)", self.owner, ", ".join(self.handlers) or "none")
        while not stop.is_set():
            more = False
            try:
                report = await self.run_once(stop)
                more = report.claimed >= self.batch_size
            except Exception:
                log.exception("timer pass failed; next try in %s s", self.poll_s)
            if more:
                await asyncio.sleep(0)
                continue
            await self._pause(stop)
        log.info("timer runner %s stopped", self.owner)

    # --- one timer ------------------------------------------------------------------------------

    def _lease_allows_a_run(self, timer: Timer) -> bool:
        """A whole handler timeout still fits in the lease, by this runner's clock."""
        if timer.lease_expires_at is None:
            return False
        left = (timer.lease_expires_at - self.clock.now()).total_seconds()
        return left > self.handler_timeout_s

    async def _fire(self, timer: Timer, report: RunReport) -> None:
        if timer.attempts > self.max_attempts:
            # Every earlier claim ended with no outcome: its scheduler died (perhaps because of it).
            reason = (
                f"claimed {timer.attempts - 1} times with no outcome (the scheduler died or lost its "
                "lease while firing it); giving up"
            )
            log.error("timer %s (%s): %s", timer.key, timer.kind, reason)
            recorded = await self.repository.give_up(timer.id, self.owner, reason)
            self._record(recorded, timer, report.failed, report)
            return
        handler = self.handlers.get(timer.kind)
        if handler is None:  # unregistered since the claim
            log.warning("timer %s: no handler for kind %r any more; handing it back", timer.key, timer.kind)
            await self._release([timer], report)
            return
        context = TimerContext(self.repository, self.clock, self.owner, self.services)
        try:
            await asyncio.wait_for(handler(timer, context), timeout=self.handler_timeout_s)
        except Exception as error:
            await self._failed(timer, error, report)
            return
        done = await self.repository.complete(timer.id, self.owner)
        if done:
            log.info("timer %s (%s) fired", timer.key, timer.kind)
        self._record(done, timer, report.fired, report)

    async def _failed(self, timer: Timer, error: Exception, report: RunReport) -> None:
        if isinstance(error, TimeoutError):
            text = f"TimeoutError: the handler ran past {self.handler_timeout_s:g} s and was cancelled"
        else:
            text = f"{type(error).__name__}: {error}"
        if timer.attempts >= self.max_attempts:
            log.error(
                "timer %s (%s) failed on attempt %d of %d; giving up: %s",
                timer.key,
                timer.kind,
                timer.attempts,
                self.max_attempts,
                text,
                exc_info=error,
            )
            recorded = await self.repository.give_up(timer.id, self.owner, text)
            self._record(recorded, timer, report.failed, report)
            return
        delay = self.backoff(timer.attempts)
        log.warning(
            "timer %s (%s) failed on attempt %d of %d; next try in %g s: %s",
            timer.key,
            timer.kind,
            timer.attempts,
            self.max_attempts,
            delay,
            text,
            exc_info=error,
        )
        retry_at = self.clock.now() + timedelta(seconds=delay)
        recorded = await self.repository.fail_attempt(timer.id, self.owner, text, retry_at)
        self._record(recorded, timer, report.retried, report)

    def _record(self, recorded: bool, timer: Timer, outcome: list[str], report: RunReport) -> None:
        if recorded:
            outcome.append(timer.key)
            return
        log.warning(
            "timer %s (%s): outcome not recorded; it was cancelled, rescheduled or taken over meanwhile",
            timer.key,
            timer.kind,
        )
        report.lost.append(timer.key)

    async def _release(self, timers: list[Timer], report: RunReport) -> None:
        for timer in timers:
            if await self.repository.release(timer.id, self.owner):
                report.released.append(timer.key)

    # --- between passes -------------------------------------------------------------------------

    async def _warn_unhandled(self, now: datetime, kinds: frozenset[str]) -> None:
        """Now and then, name the due kinds nobody here can fire (they wait for a newer version)."""
        if self._next_unhandled_check is not None and now < self._next_unhandled_check:
            return
        self._next_unhandled_check = now + timedelta(seconds=self.unhandled_check_s)
        for kind, count in sorted((await self.repository.unhandled_due(now, kinds)).items()):
            log.warning(
                "%d due timer(s) of kind %r have no handler in this scheduler; they stay pending", count, kind
            )

    async def _pause(self, stop: asyncio.Event) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep(self.poll_s))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
