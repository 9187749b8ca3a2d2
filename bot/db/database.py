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

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.batch_thread import BatchThread, Outcome
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

    def __init__(self, url: str, max_group: int = 32) -> None:
        parsed = make_url(url)
        sqlite_file(parsed)
        self.engine: Engine = create_sync_engine(
            parsed.set(drivername="sqlite"),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", configure_sqlite_connection)
        self._connection: Connection | None = None  # the thread's own, kept open between groups
        self._thread: BatchThread[Work[Any]] = BatchThread(
            "atelier-db", self._run_group, max_batch=max_group, on_stop=self._dispose
        )

    @property
    def groups(self) -> int:
        """Transactions run so far (a group of one or more units)."""
        return self._thread.batches

    @property
    def units(self) -> int:
        return self._thread.items

    async def write(self, work: Work[T]) -> T:
        result: T = await self._thread.submit(work)
        return result

    def _run_group(self, group: list[Work[Any]]) -> list[Outcome]:
        if len(group) > 1:
            try:
                return [(True, value) for value in self._transaction(group)]
            except Exception:
                pass  # someone's unit failed: run each alone below, so only that one fails
        outcomes: list[Outcome] = []
        for work in group:
            try:
                outcomes.append((True, self._transaction([work])[0]))
            except Exception as error:
                outcomes.append((False, error))
        return outcomes

    def _transaction(self, group: list[Work[Any]]) -> list[Any]:
        """Run `group` in one transaction on the thread's connection (opened again after a failure:
        checking a connection out of the pool for every group cost more than its statements)."""
        if self._connection is None:
            self._connection = self.engine.connect()
        connection = self._connection
        try:
            with connection.begin():
                return [work(connection) for work in group]
        except Exception:
            self._connection = None
            connection.invalidate()  # its driver connection is not reused, whatever state it was left in
            connection.close()
            raise

    def _dispose(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self.engine.dispose()

    async def close(self) -> None:
        await self._thread.close()


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
