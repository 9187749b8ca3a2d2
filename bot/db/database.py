"""Runs units of database work for the async bot: each unit is a plain function over a Connection.

A unit runs in one transaction, whatever the database:
- SQLite (the embedded default): on the calling thread (the bot's event loop), directly through
  the standard library's driver on one connection kept open. A unit is a few small indexed
  statements and SQLite in WAL mode with synchronous=NORMAL commits without waiting for the disk,
  so it takes a fraction of a millisecond: less than handing it to another thread and back cost
  (measured side by side in `docs/pipeline-performance.md`). A unit slower than
  `SLOW_UNIT_S` is logged, so one that should not block the loop is noticed.
- PostgreSQL: on asyncpg through `AsyncConnection.run_sync`, which drives the same function from the
  event loop. Pooled connections are not pinged before each unit (a round trip per unit, measured in
  `docs/pipeline-performance.md`): a unit whose connection turns out to be
  gone before it commits (the server restarted, or dropped it) is run once more on a new one. Nothing
  of it was committed, so running it again is safe; a unit that loses its connection while
  committing is not run again, since its outcome is unknown.

Writing the SQL once, as ordinary functions, keeps the two paths identical.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import SQLITE_BUSY_TIMEOUT_S, configure_sqlite_connection, create_engine, sqlite_file

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Connection], T]
SLOW_UNIT_S = 0.05


class Database(Protocol):
    """Where the repository's units of work run."""

    async def write(self, work: Work[T]) -> T:
        """Run `work` in a transaction that commits when it returns and rolls back if it raises."""
        ...

    async def close(self) -> None: ...


class SQLiteDatabase:
    """SQLite: each unit runs at once on the caller's thread, in a transaction of its own, on one
    connection that stays open (a lock keeps callers on other threads, such as a CLI's, in turn)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        sqlite_file(parsed)
        self.engine: Engine = create_sync_engine(
            parsed.set(drivername="sqlite"),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", configure_sqlite_connection)
        self._connection: Connection | None = None  # kept open between units
        self._lock = threading.Lock()
        self.units = 0

    async def write(self, work: Work[T]) -> T:
        began = time.perf_counter()
        with self._lock:
            result = self._transaction(work)
            self.units += 1
        took = time.perf_counter() - began
        if took > SLOW_UNIT_S:
            log.warning("a database unit held the event loop for %.0f ms", took * 1000)
        return result

    def _transaction(self, work: Work[T]) -> T:
        """Run `work` in one transaction (the connection is opened again after a failure: checking
        one out of the pool for every unit cost more than the unit's statements)."""
        if self._connection is None:
            self._connection = self.engine.connect()
        connection = self._connection
        try:
            with connection.begin():
                return work(connection)
        except Exception:
            self._connection = None
            connection.invalidate()  # its driver connection is not reused, whatever state it was left in
            connection.close()
            raise

    async def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self.engine.dispose()


class _LostBeforeCommit(Exception):
    """A unit's connection was gone before the unit committed: nothing of it was written."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


class AsyncDatabase:
    """PostgreSQL (or anything with an async driver): units run through run_sync on the event loop."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.retried = 0  # units run again after their connection was lost

    async def write(self, work: Work[T]) -> T:
        try:
            return await self._transaction(work)
        except _LostBeforeCommit as lost:
            self.retried += 1
            log.warning("database connection lost (%s); running the unit again on a new one", lost.error.orig)
            try:
                return await self._transaction(work)
            except _LostBeforeCommit as again:
                raise again.error from None

    async def _transaction(self, work: Work[T]) -> T:
        committing = False
        try:
            async with self.engine.begin() as connection:
                result = await connection.run_sync(work)
                committing = True  # leaving the block commits
            return result
        except DBAPIError as error:
            if error.connection_invalidated and not committing:
                raise _LostBeforeCommit(error) from error
            raise

    async def close(self) -> None:
        await self.engine.dispose()


def open_database(url: str) -> Database:
    """The runner for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
    if make_url(url).get_backend_name() == "sqlite":
        return SQLiteDatabase(url)
    return AsyncDatabase(create_engine(url, pool_pre_ping=False))  # lost connections: see AsyncDatabase
