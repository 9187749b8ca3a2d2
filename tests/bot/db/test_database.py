"""The unit runners: SQLite's (a transaction per unit on the caller's thread, errors that stay with
their unit) and PostgreSQL's (a unit whose connection was lost before it committed runs again)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from bot.db.database import SLOW_UNIT_S, AsyncDatabase, SQLiteDatabase, open_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    db = SQLiteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'units.db'}")
    await db.write(lambda c: c.execute(text("CREATE TABLE items (name TEXT PRIMARY KEY)")))
    yield db
    await db.close()


def _insert(name: str) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(text("INSERT INTO items (name) VALUES (:name)"), {"name": name})
        return name

    return work


async def _names(database: SQLiteDatabase) -> list[str]:
    return await database.write(
        lambda c: [row[0] for row in c.execute(text("SELECT name FROM items ORDER BY name"))]
    )


async def test_units_run_on_the_calling_thread_in_order(database: SQLiteDatabase) -> None:
    names = [f"item-{i:03d}" for i in range(200)]
    before = database.units
    threads = set()

    def insert_noting_the_thread(name: str) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            threads.add(threading.get_ident())
            return _insert(name)(connection)

        return work

    assert await asyncio.gather(*(database.write(insert_noting_the_thread(n)) for n in names)) == names
    assert await _names(database) == names
    assert database.units - before == 201 and threads == {threading.get_ident()}


async def test_callers_on_other_threads_take_turns_on_the_one_connection(database: SQLiteDatabase) -> None:
    async def insert_all(prefix: str) -> None:
        for i in range(50):
            await database.write(_insert(f"{prefix}-{i:02d}"))

    await asyncio.gather(*(asyncio.to_thread(asyncio.run, insert_all(p)) for p in ("a", "b", "c")))
    assert len(await _names(database)) == 150


async def test_a_slow_unit_is_logged(database: SQLiteDatabase, caplog: pytest.LogCaptureFixture) -> None:
    def slow(connection: Connection) -> None:
        time.sleep(SLOW_UNIT_S + 0.02)

    with caplog.at_level(logging.WARNING, logger="bot.db.database"):
        await database.write(slow)
        await database.write(_insert("quick"))
    assert [r.getMessage().split(" for ")[0] for r in caplog.records] == [
        "a database unit held the event loop"
    ]


async def test_a_failing_unit_fails_alone_and_the_others_commit(database: SQLiteDatabase) -> None:
    await database.write(_insert("taken"))
    names = [f"item-{i:03d}" for i in range(50)]
    outcomes = await asyncio.gather(
        *(database.write(_insert(name)) for name in [*names[:25], "taken", *names[25:]]),
        return_exceptions=True,
    )
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(errors) == 1 and "UNIQUE" in str(errors[0])
    assert await _names(database) == sorted([*names, "taken"])


async def test_a_unit_that_raises_rolls_back_its_own_writes(database: SQLiteDatabase) -> None:
    def half_done(connection: Connection) -> None:
        _insert("half")(connection)
        raise RuntimeError("changed its mind")

    with pytest.raises(RuntimeError, match="changed its mind"):
        await database.write(half_done)
    assert await _names(database) == []


async def test_a_unit_that_breaks_the_connection_leaves_the_next_unit_a_working_one(
    database: SQLiteDatabase,
) -> None:
    def break_it(connection: Connection) -> None:
        connection.connection.dbapi_connection.close()  # type: ignore[union-attr]
        raise RuntimeError("the connection went away under this unit")

    with pytest.raises(Exception, match=r"closed database|went away"):
        await database.write(break_it)
    assert await database.write(_insert("after")) == "after"
    assert await _names(database) == ["after"]


@pytest.fixture
async def postgres_database(postgres_session_url: str) -> AsyncIterator[AsyncDatabase]:
    database = open_database(postgres_session_url)
    assert isinstance(database, AsyncDatabase)
    yield database
    await database.close()


class _CountedUnit:
    """A unit that runs one statement and counts how often it was run."""

    def __init__(self, sql: str) -> None:
        self.statement = text(sql)
        self.runs = 0

    def __call__(self, connection: Connection) -> None:
        self.runs += 1
        connection.execute(self.statement)


@pytest.mark.postgres
async def test_postgres_runs_a_unit_again_when_its_connection_was_dropped(
    postgres_database: AsyncDatabase, postgres_session_url: str
) -> None:
    """Pooled connections are not pinged: a unit whose connection the server dropped runs once more
    on a new one (nothing of it was committed), and its write lands exactly once."""
    database = postgres_database
    insert = _CountedUnit("INSERT INTO lost_items (name) VALUES ('only-once')")
    try:
        await database.write(lambda c: c.execute(text("CREATE TABLE lost_items (name TEXT PRIMARY KEY)")))
        pid = await database.write(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        admin = await asyncpg.connect(postgres_session_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)  # as a server restart would
        finally:
            await admin.close()
        await database.write(insert)
        names = await database.write(lambda c: c.execute(text("SELECT name FROM lost_items")).scalars().all())
        assert (insert.runs, database.retried, names) == (2, 1, ["only-once"])
    finally:
        await database.write(lambda c: c.execute(text("DROP TABLE IF EXISTS lost_items")))


@pytest.mark.postgres
async def test_postgres_does_not_run_a_failing_unit_again(postgres_database: AsyncDatabase) -> None:
    broken = _CountedUnit("SELECT * FROM no_such_table")
    with pytest.raises(ProgrammingError):
        await postgres_database.write(broken)
    assert (broken.runs, postgres_database.retried) == (1, 0)
