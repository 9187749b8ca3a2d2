"""The SQLite unit runner: one thread, group commit, and errors that stay with their own unit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from bot.db.database import ThreadDatabase


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[ThreadDatabase]:
    db = ThreadDatabase(f"sqlite+aiosqlite:///{tmp_path / 'units.db'}")
    await db.write(lambda c: c.execute(text("CREATE TABLE items (name TEXT PRIMARY KEY)")))
    yield db
    await db.close()


def _insert(name: str) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(text("INSERT INTO items (name) VALUES (:name)"), {"name": name})
        return name

    return work


async def _names(database: ThreadDatabase) -> list[str]:
    return await database.write(
        lambda c: [row[0] for row in c.execute(text("SELECT name FROM items ORDER BY name"))]
    )


async def test_units_queued_together_share_commits(database: ThreadDatabase) -> None:
    names = [f"item-{i:03d}" for i in range(200)]
    before = database.groups
    assert await asyncio.gather(*(database.write(_insert(name)) for name in names)) == names
    assert await _names(database) == names
    assert database.groups - before < 200  # at least some units shared a transaction


async def test_a_failing_unit_fails_alone_and_the_rest_of_its_group_commits(database: ThreadDatabase) -> None:
    await database.write(_insert("taken"))
    names = [f"item-{i:03d}" for i in range(50)]
    outcomes = await asyncio.gather(
        *(database.write(_insert(name)) for name in [*names[:25], "taken", *names[25:]]),
        return_exceptions=True,
    )
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(errors) == 1 and "UNIQUE" in str(errors[0])
    assert await _names(database) == sorted([*names, "taken"])


async def test_a_unit_that_raises_rolls_back_its_own_writes(database: ThreadDatabase) -> None:
    def half_done(connection: Connection) -> None:
        _insert("half")(connection)
        raise RuntimeError("changed its mind")

    with pytest.raises(RuntimeError, match="changed its mind"):
        await database.write(half_done)
    assert await _names(database) == []


async def test_a_unit_that_breaks_the_connection_leaves_the_next_unit_a_working_one(
    database: ThreadDatabase,
) -> None:
    def break_it(connection: Connection) -> None:
        connection.connection.dbapi_connection.close()  # type: ignore[union-attr]
        raise RuntimeError("the connection went away under this unit")

    with pytest.raises(Exception, match=r"closed database|went away"):
        await database.write(break_it)
    assert await database.write(_insert("after")) == "after"
    assert await _names(database) == ["after"]
