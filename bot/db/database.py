"""Runs units of database work for the async bot: each unit is a plain function over a Connection.

A unit runs in one transaction, whatever the database:
- SQLite (the embedded default): on one thread of its own with the standard library's driver, so a
  unit costs one hop between threads however many statements it runs (aiosqlite hops once per call:
  about ten per transaction, the largest part of the bot's database time when this was measured).
- PostgreSQL: on asyncpg through `AsyncConnection.run_sync`, which drives the same function from the
  event loop.

Writing the SQL once, as ordinary functions, keeps the two paths identical.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

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
    """SQLite: every unit runs on one dedicated thread, one transaction each."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        sqlite_file(parsed)
        self.engine: Engine = create_sync_engine(
            parsed.set(drivername="sqlite"),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", configure_sqlite_connection)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-db")

    async def write(self, work: Work[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Work[T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.engine.dispose)
        self._thread.shutdown(wait=True)


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
