"""Direct statements: on SQLite, the same rows, types and errors as SQLAlchemy's own execution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.db.database import SQLiteDatabase
from bot.db.direct import DirectStatement
from bot.db.models import JOB_STATUS_TYPE, UTCDateTime
from bot.db.status import JobStatus

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", String(8), primary_key=True),
    Column("status", JOB_STATUS_TYPE),
    Column("data", JSON(none_as_null=True)),
    Column("at", UTCDateTime),
    Column("count", Integer),
)
INSERT = insert(ITEMS).values(
    id=bindparam("p_id"),
    status=bindparam("p_status", type_=JOB_STATUS_TYPE),
    data=bindparam("p_data", type_=JSON(none_as_null=True)),
    at=bindparam("p_at", type_=UTCDateTime()),
    count=bindparam("p_count", type_=Integer()),
)
BUMP = (
    update(ITEMS)
    .where(ITEMS.c.id == bindparam("p_id"), ITEMS.c.status == JobStatus.QUEUED)
    .values(count=ITEMS.c.count + 1, status=JobStatus.RUNNING)
    .returning(ITEMS.c.id, ITEMS.c.status, ITEMS.c.data, ITEMS.c.at, ITEMS.c.count)
)
QUEUED_SINCE = select(ITEMS.c.id).where(
    ITEMS.c.status == JobStatus.QUEUED, ITEMS.c.at >= bindparam("p_at", type_=UTCDateTime())
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    db = SQLiteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    await db.write(lambda connection: METADATA.create_all(connection))
    yield db
    await db.close()


def _item(name: str, at: datetime) -> dict[str, Any]:
    return {
        "p_id": name,
        "p_status": JobStatus.QUEUED,
        "p_data": {"tags": [name], "n": 1},
        "p_at": at,
        "p_count": 0,
    }


async def test_rows_and_types_match_sqlalchemy(database: SQLiteDatabase) -> None:
    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC) + timedelta(microseconds=123)
    insert_directly = DirectStatement(INSERT)
    await database.write(lambda c: insert_directly.rows(c, _item("a", at)))
    await database.write(lambda c: c.execute(INSERT, _item("b", at)))
    bump = DirectStatement(BUMP)

    def both(connection: Connection) -> tuple[Any, Any]:
        return bump.first(connection, {"p_id": "a"}), connection.execute(BUMP, {"p_id": "b"}).one()

    direct, through_sqlalchemy = await database.write(both)
    assert direct.status is JobStatus.RUNNING and direct.at == at and direct.at.tzinfo is not None
    assert direct.data == {"tags": ["a"], "n": 1} and direct.count == 1
    assert through_sqlalchemy.data == {"tags": ["b"], "n": 1}
    same = ("status", "at", "count")
    assert [getattr(direct, k) for k in same] == [getattr(through_sqlalchemy, k) for k in same]
    assert [type(getattr(direct, k)) for k in same] == [type(getattr(through_sqlalchemy, k)) for k in same]
    assert await database.write(lambda c: bump.first(c, {"p_id": "a"})) is None  # no longer queued


async def test_a_select_runs_directly_with_constants_and_parameters(database: SQLiteDatabase) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    statement = DirectStatement(INSERT)
    for i in range(5):
        await database.write(lambda c, i=i: statement.rows(c, _item(f"i{i}", at + timedelta(days=i))))
    queued_since = DirectStatement(QUEUED_SINCE)
    found = await database.write(lambda c: queued_since.rows(c, {"p_at": at + timedelta(days=2)}))
    assert sorted(row.id for row in found) == ["i2", "i3", "i4"]
    assert await database.write(lambda c: queued_since.scalar(c, {"p_at": at + timedelta(days=9)})) is None


async def test_driver_errors_are_sqlalchemys_and_roll_the_unit_back(database: SQLiteDatabase) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    statement = DirectStatement(INSERT)
    await database.write(lambda c: statement.rows(c, _item("x", at)))

    def twice(connection: Connection) -> None:
        statement.rows(connection, _item("y", at))
        statement.rows(connection, _item("x", at))  # the key is taken

    with pytest.raises(IntegrityError):
        await database.write(twice)
    ids = await database.write(lambda c: [row.id for row in c.execute(select(ITEMS.c.id))])
    assert ids == ["x"]  # "y" went with the failed unit


async def test_bad_values_are_refused_by_the_columns_own_processors(database: SQLiteDatabase) -> None:
    statement = DirectStatement(INSERT)
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="naive datetime"):
        await database.write(lambda c: statement.rows(c, _item("n", naive)))


async def test_a_statement_that_cannot_run_directly_is_refused(database: SQLiteDatabase) -> None:
    expanding = DirectStatement(select(ITEMS.c.id).where(ITEMS.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        await database.write(lambda c: expanding.rows(c, {"ids": ["a"]}))
    computed = DirectStatement(
        select(ITEMS.c.id).where(ITEMS.c.id == bindparam("p_id", callable_=lambda: "a"))
    )
    with pytest.raises(ValueError, match="computed per call"):
        await database.write(lambda c: computed.rows(c, {}))
