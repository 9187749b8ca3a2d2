"""Runs units of database work for the async bot: each unit is a plain function over a Connection.

A unit runs in one transaction, whatever the database:
- SQLite (the embedded default): on one thread of its own with the standard library's driver, so a
  unit costs one hop between threads however many statements it runs (aiosqlite hops once per call:
  about ten per transaction, the largest part of the bot's database time when this was measured),
  and units queued together share one commit.
- PostgreSQL: on asyncpg through `AsyncConnection.run_sync`, which drives the same function from the
  event loop.

Writing the SQL once, as ordinary functions, keeps the two paths identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import SQLITE_BUSY_TIMEOUT_S, configure_sqlite_connection, create_engine, sqlite_file

T = TypeVar("T")
Work = Callable[[Connection], T]


class Database(Protocol):
    """Where the repository's units of work run."""

    async def write(self, work: Work[T]) -> T:
        """Run `work` in a transaction that commits when it returns and rolls back if it raises."""
        ...

    async def close(self) -> None: ...


class ThreadDatabase:
    """SQLite: units run on one dedicated thread, and those waiting together share one commit.

    Group commit: the thread takes every unit queued at that moment (up to `max_group`) and runs them
    in one transaction; under load that turns hundreds of commits into a few. Units are independent
    writes, so sharing a transaction changes no result. If any unit in a group raises, the group is
    rolled back and each of its units runs again alone, so one unit's error never touches another's.
    """

    def __init__(self, url: str, max_group: int = 200) -> None:
        parsed = make_url(url)
        sqlite_file(parsed)
        self.engine: Engine = create_sync_engine(
            parsed.set(drivername="sqlite"),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", configure_sqlite_connection)
        self.max_group = max_group
        self.groups = 0
        self.units = 0
        self._queue: queue.SimpleQueue[_Unit[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="atelier-db", daemon=True)
        self._thread.start()

    async def write(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Unit(work, future, loop))
        return await future

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self.engine.dispose()
                return
            group = [first]
            stop = False
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._run_group(group)
            if stop:
                self.engine.dispose()
                return

    def _run_group(self, group: list[_Unit[Any]]) -> None:
        self.groups += 1
        self.units += len(group)
        if len(group) > 1:
            try:
                with self.engine.begin() as connection:
                    results = [unit.work(connection) for unit in group]
            except Exception:
                pass  # someone's unit failed: run each alone below, so only that one fails
            else:
                _settle(group, [(True, result) for result in results])
                return
        outcomes: list[tuple[bool, Any]] = []
        for unit in group:
            try:
                with self.engine.begin() as connection:
                    outcomes.append((True, unit.work(connection)))
            except Exception as error:
                outcomes.append((False, error))
        _settle(group, outcomes)

    async def close(self) -> None:
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)


@dataclass(frozen=True)
class _Unit(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop


def _settle(group: list[_Unit[Any]], outcomes: list[tuple[bool, Any]]) -> None:
    """Hand each unit's result or error to its waiting coroutine (one wake-up per event loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for unit, (ok, value) in zip(group, outcomes, strict=True):
        by_loop.setdefault(unit.loop, []).append((unit.future, ok, value))
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


class AsyncDatabase:
    """PostgreSQL (or anything with an async driver): units run through run_sync on the event loop."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(self, work: Work[T]) -> T:
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def close(self) -> None:
        await self.engine.dispose()


def open_database(url: str) -> Database:
    """The runner for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    if make_url(url).get_backend_name() == "sqlite":
        return ThreadDatabase(url)
    return AsyncDatabase(create_engine(url))
