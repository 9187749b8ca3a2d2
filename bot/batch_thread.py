"""A thread that serves an event loop in batches: it takes every item queued at that moment at once.

The bot's blocking send to Celery runs on such a thread. Taking what has queued up as one batch
lets the work share what can be shared (a Redis round trip) and wakes the event
loop once per batch rather than once per item. With nothing queued, a batch is a single item, so an
idle bot pays no delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - an item
Outcome = tuple[bool, Any]
"""(True, result) or (False, the exception to raise in the caller)."""


@dataclass(frozen=True)
class _Request(Generic[I]):
    item: I
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class BatchThread(Generic[I]):
    """Runs `process(items) -> outcomes` (one outcome per item, in order) on a thread of its own."""

    def __init__(
        self,
        name: str,
        process: Callable[[list[I]], list[Outcome]],
        *,
        max_batch: int = 200,
    ) -> None:
        self.process = process
        self.max_batch = max_batch
        self.batches = 0
        self._queue: queue.SimpleQueue[_Request[I] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def submit(self, item: I) -> Any:
        """Queue `item` and wait for its outcome (its result, or its exception raised here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Request(item, future, loop))
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    def _serve(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    request = self._queue.get_nowait()
                except queue.Empty:
                    break
                if request is None:
                    stop = True
                    break
                batch.append(request)
            self.batches += 1
            try:
                outcomes = self.process([request.item for request in batch])
            except Exception as error:  # the processor itself failed: every caller hears of it
                outcomes = [(False, error)] * len(batch)
            _settle(batch, outcomes)


def _settle(batch: list[_Request[Any]], outcomes: list[Outcome]) -> None:
    """Hand each caller its outcome, with one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for request, (ok, value) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(request.loop, []).append((request.future, ok, value))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in items:
        if future.done():  # the caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
