"""Wait until some state satisfies a check, re-checking after every change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """A pulse: ``notify()`` wakes everyone waiting in ``wait_until``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, check: Callable[[], T | None], timeout: float) -> T:
        """Return the first non-None ``check()`` result; ``asyncio.TimeoutError`` after ``timeout`` s."""

        async def loop() -> T:
            while True:
                event = self._event
                found = check()
                if found is not None:
                    return found
                await event.wait()

        return await asyncio.wait_for(loop(), timeout)
