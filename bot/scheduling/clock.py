"""What time it is, and waiting: the system's clock in production, a manual one in tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC datetimes and a way to wait on it."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` have passed on this clock."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to: `advance` wakes the sleepers whose time has come."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2030, 1, 1, tzinfo=UTC)
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("a ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, by: float | timedelta) -> datetime:
        """Move forward by `by` (seconds or a timedelta); returns the new time."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if step < timedelta(0):
            raise ValueError("a clock does not go back")
        return self.set(self._now + step)

    def set(self, at: datetime) -> datetime:
        """Jump forward to `at` (aware); returns it."""
        at = at.astimezone(UTC)
        if at < self._now:
            raise ValueError("a clock does not go back")
        self._now = at
        waiting = []
        for deadline, future in self._sleepers:
            if deadline <= at:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((deadline, future))
        self._sleepers = waiting
        return at

    @property
    def sleepers(self) -> int:
        """How many callers are waiting in `sleep` (tests wait for a loop to reach its pause)."""
        return sum(1 for _, future in self._sleepers if not future.done())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + timedelta(seconds=seconds), future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)
