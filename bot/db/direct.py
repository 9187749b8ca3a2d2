"""The bot's hottest statements, run straight on SQLite's driver when the database is SQLite.

For a small indexed statement, SQLAlchemy Core's execution context, parameter dictionaries and
result object per call cost about as much as SQLite's own work: storing a job took 150 µs through
Core and 106 µs directly, recording a result 130 and 83 µs (`docs/pipeline-performance.md`).
A `DirectStatement` is still written as a Core statement and still
compiled by SQLAlchemy, once per dialect; on SQLite it then runs the compiled SQL on the driver
connection that the unit's transaction already holds, with the same type processors on parameters
and returned columns. On any other database it is an ordinary `Connection.execute`.

Only statements whose parameters are all named binds or fixed values qualify (no expanding IN
lists, no literal-rendered values, no values computed per call); anything else is refused when the
statement is first compiled.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, exc
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    """One statement compiled for SQLite: its SQL, how to lay out parameters, how to read rows."""

    sql: str
    names: tuple[str, ...]  # the parameter bound at each position, in order
    constants: Mapping[str, Any]  # binds whose value is part of the statement
    processors: Mapping[str, Processor]
    row_type: Callable[..., tuple[Any, ...]] | None  # makes a named tuple of the returned columns
    column_processors: tuple[Processor, ...]


class DirectStatement:
    """A prebuilt Core statement that skips SQLAlchemy's per-call machinery on SQLite."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plan: _Plan | None = None

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run the statement; its rows, each with the returned columns as attributes."""
        if connection.dialect.name != "sqlite":
            result = connection.execute(self.statement, dict(params))
            return list(result.all()) if result.returns_rows else []
        plan = self._plan or self._compile(connection.dialect)
        raw = self._run(connection, plan, params)
        if plan.row_type is None:
            return []
        processors = plan.column_processors
        return [
            plan.row_type(*(p(v) if p else v for p, v in zip(processors, row, strict=True))) for row in raw
        ]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        found = self.rows(connection, params)
        return found[0] if found else None

    def scalar(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first column of the first row, or None."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def _run(self, connection: Connection, plan: _Plan, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name in plan.names:
            value = params[name] if name in params else plan.constants[name]
            processor = plan.processors[name]
            values.append(processor(value) if processor else value)
        driver = connection.connection.driver_connection
        assert driver is not None
        try:
            return driver.execute(plan.sql, values).fetchall()  # type: ignore[no-any-return]
        except connection.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                plan.sql, values, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
            ) from error

    def _compile(self, dialect: Dialect) -> _Plan:
        assert isinstance(self.statement, ClauseElement)
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if not compiled.positional or compiled.positiontup is None:
            raise ValueError("a direct statement needs the dialect's positional parameters")
        names = tuple(compiled.positiontup)
        binds = {name: compiled.binds[name] for name in names}
        for name, bind in binds.items():
            if bind.expanding or bind.literal_execute:
                raise ValueError(f"parameter {name!r} cannot run directly (expanding or literal)")
            if bind.callable is not None:  # its value would be taken once, here, not per call
                raise ValueError(f"parameter {name!r} cannot run directly (its value is computed per call)")
        constants = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in binds.items()
        }
        columns = _returned_columns(compiled)
        row_type = _named_tuple([name for name, _ in columns]) if columns else None
        column_processors = tuple(
            column_type.dialect_impl(dialect).result_processor(dialect, None) for _, column_type in columns
        )
        self._plan = _Plan(compiled.string, names, constants, processors, row_type, column_processors)
        return self._plan


def _named_tuple(fields: list[str]) -> Callable[..., tuple[Any, ...]]:
    """A named tuple type with these fields (renamed where a name is not a valid identifier)."""
    make: Callable[..., Callable[..., tuple[Any, ...]]] = collections.namedtuple
    return make("Row", fields, rename=True)


def _returned_columns(compiled: SQLCompiler) -> Sequence[tuple[str, Any]]:
    """(name, type) of each column the statement returns (a SELECT's, or RETURNING's)."""
    return [(entry[0], entry[3]) for entry in compiled._result_columns]
