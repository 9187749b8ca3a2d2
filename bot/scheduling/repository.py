"""The `timers` table: schedule by key, cancel, and the lease that lets one scheduler fire a timer.

Each operation is a unit of work (a plain function over a Connection, SQLAlchemy Core) run in one
transaction by a `Database` (bot/db/database.py), as the job repository (bot/db/jobs) does. Every
state change is a conditional UPDATE (compare-and-set), so concurrent schedulers and the bot never
overwrite each other, on SQLite and PostgreSQL alike.

The lease: `claim_due` marks due, pending timers as held by `owner` until `now + lease_s` and counts
an attempt, in one transaction: it picks the oldest due ids (on PostgreSQL with `FOR UPDATE SKIP
LOCKED`, so concurrent claimers lock different timers instead of queueing), then sets the lease with
an UPDATE of those ids that checks again that each is still claimable (on SQLite the pick takes no
lock: a timer another claimer won in between is left out). Finishing (`complete`, `fail_attempt`,
`give_up`, `release`) succeeds only while `owner` still holds the lease: once a lease has lapsed and
another scheduler has claimed the timer, the first one's outcome is refused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.database import Database, open_database
from bot.db.models import TimerRow
from bot.scheduling.clock import Clock, SystemClock

TIMERS: Table = TimerRow.__table__  # type: ignore[assignment]
MAX_ERROR_CHARS = 4000
"""A failure's text is cut to this length before it is stored."""


class TimerState(StrEnum):
    """Where a timer is in its life: pending until it fires (done), is cancelled, or runs out of tries."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Timer:
    """A read-only snapshot of one stored timer."""

    id: str
    kind: str
    key: str
    guild_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    state: TimerState
    attempts: int
    """Claims so far, the current one included (a claim counts even if its scheduler then died)."""
    lease_owner: str | None
    """The scheduler holding it now, or (once done or failed) the one that finished it."""
    lease_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    fired_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Timer:
        return cls(
            id=row.id,
            kind=row.kind,
            key=row.key,
            guild_id=row.guild_id,
            payload=row.payload,
            due_at=row.due_at,
            state=TimerState(row.state),
            attempts=row.attempts,
            lease_owner=row.lease_owner,
            lease_expires_at=row.lease_expires_at,
            last_error=row.last_error,
            created_at=row.created_at,
            fired_at=row.fired_at,
            updated_at=row.updated_at,
        )


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


def _held_by(timer_id: str, owner: str) -> ColumnElement[bool]:
    """The timer is pending and `owner` holds its lease (lapsed or not: nobody else claimed it)."""
    return and_(TIMERS.c.id == timer_id, TIMERS.c.state == TimerState.PENDING, TIMERS.c.lease_owner == owner)


def _claimable(now: datetime, kinds: Collection[str] | None) -> ColumnElement[bool]:
    """Pending, due, and not held by a live lease (only of `kinds`, when given)."""
    condition = and_(
        TIMERS.c.state == TimerState.PENDING,
        TIMERS.c.due_at <= now,
        or_(TIMERS.c.lease_expires_at.is_(None), TIMERS.c.lease_expires_at <= now),
    )
    if kinds is not None:
        condition = and_(condition, TIMERS.c.kind.in_(sorted(kinds)))
    return condition


def _insert(connection: Connection) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


class TimerRepository:
    """Durable timers in the bot's database."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._db = database
        self._clock: Clock = clock or SystemClock()

    @classmethod
    def open(cls, url: str, clock: Clock | None = None) -> TimerRepository:
        """A repository on the database at `url` (already migrated); close it with `close()`."""
        return cls(open_database(url), clock)

    async def close(self) -> None:
        await self._db.close()

    # --- features: schedule, cancel, look up ------------------------------------------------------

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        *,
        rearm: bool = False,
    ) -> Timer:
        """Make sure the timer `key` fires at `due_at`; returns it as stored.

        New key: a pending timer is stored. Pending already: unchanged values leave it exactly as it
        is (so "make sure it is scheduled" at every start is safe); a different due time, payload,
        kind or guild moves it, resets its attempts and drops a lease on it (a firing in progress
        then cannot mark it done: it fires again, with the new values). Done, cancelled or failed:
        left alone and returned as it is, unless `rearm` makes it pending again.
        """
        if not kind or len(kind) > 64:
            raise ValueError("a timer's kind must be 1 to 64 characters")
        if not key or len(key) > 255:
            raise ValueError("a timer's key must be 1 to 255 characters")
        _aware(due_at, "due_at")
        data: dict[str, Any] = json.loads(json.dumps(dict(payload or {})))  # as it will read back
        now = self._clock.now()
        values: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "key": key,
            "guild_id": guild_id,
            "payload": data,
            "due_at": due_at,
            "state": TimerState.PENDING,
            "attempts": 0,
            "lease_owner": None,
            "lease_expires_at": None,
            "last_error": None,
            "created_at": now,
            "fired_at": None,
            "updated_at": now,
        }

        def work(connection: Connection) -> Timer:
            inserted = connection.execute(
                _insert(connection)(TIMERS)
                .values(values)
                .on_conflict_do_nothing(index_elements=[TIMERS.c.key])
                .returning(*TIMERS.c)
            ).one_or_none()
            if inserted is not None:
                return Timer.from_row(inserted)
            existing = Timer.from_row(
                connection.execute(select(TIMERS).where(TIMERS.c.key == key).with_for_update()).one()
            )
            if existing.state is TimerState.PENDING:
                unchanged = (existing.kind, existing.guild_id, existing.payload, existing.due_at) == (
                    kind,
                    guild_id,
                    data,
                    due_at,
                )
                if unchanged:
                    return existing
            elif not rearm:
                return existing
            changed = {
                "kind": kind,
                "guild_id": guild_id,
                "payload": data,
                "due_at": due_at,
                "state": TimerState.PENDING,
                "attempts": 0,
                "lease_owner": None,
                "lease_expires_at": None,
                "last_error": None,
                "fired_at": None,
                "updated_at": now,
            }
            row = connection.execute(
                update(TIMERS).where(TIMERS.c.id == existing.id).values(changed).returning(*TIMERS.c)
            ).one()
            return Timer.from_row(row)

        return await self._db.write(work)

    async def cancel(self, key: str) -> bool:
        """Cancel a pending timer; False if there is none with this key, or it already finished.

        A timer being fired right now is cancelled too: its firing may still take effect, but it is
        never marked done and never fires again.
        """
        statement = (
            update(TIMERS)
            .where(TIMERS.c.key == key, TIMERS.c.state == TimerState.PENDING)
            .values(state=TimerState.CANCELLED, lease_expires_at=None, updated_at=self._clock.now())
            .returning(TIMERS.c.id)
        )
        return await self._db.write(lambda c: c.execute(statement).scalar_one_or_none() is not None)

    async def cancel_for_guild(self, guild_id: int, kind: str | None = None) -> int:
        """Cancel every pending timer of a server (only of `kind`, if given); how many were cancelled."""
        statement = update(TIMERS).where(TIMERS.c.guild_id == guild_id, TIMERS.c.state == TimerState.PENDING)
        if kind is not None:
            statement = statement.where(TIMERS.c.kind == kind)
        statement = statement.values(
            state=TimerState.CANCELLED, lease_expires_at=None, updated_at=self._clock.now()
        ).returning(TIMERS.c.id)
        return await self._db.write(lambda c: len(c.execute(statement).all()))

    async def get(self, key: str) -> Timer | None:
        """The timer with this key, whatever its state, or None."""
        statement = select(TIMERS).where(TIMERS.c.key == key)

        def work(connection: Connection) -> Timer | None:
            row = connection.execute(statement).one_or_none()
            return Timer.from_row(row) if row is not None else None

        return await self._db.write(work)

    async def list_for_guild(
        self, guild_id: int, states: Iterable[TimerState] | None = (TimerState.PENDING,)
    ) -> list[Timer]:
        """A server's timers, soonest first: the pending ones by default, every one with `states=None`."""
        statement = select(TIMERS).where(TIMERS.c.guild_id == guild_id)
        if states is not None:
            statement = statement.where(TIMERS.c.state.in_(sorted(TimerState(s) for s in states)))
        statement = statement.order_by(TIMERS.c.due_at, TIMERS.c.id)
        return await self._db.write(lambda c: [Timer.from_row(row) for row in c.execute(statement)])

    # --- the scheduler: claim, then finish --------------------------------------------------------

    async def claim_due(
        self,
        owner: str,
        now: datetime,
        lease_s: float,
        limit: int,
        kinds: Collection[str] | None = None,
    ) -> list[Timer]:
        """Take up to `limit` due, pending timers not held by a live lease, oldest due first.

        Each is leased to `owner` until `now + lease_s` and its attempts go up by one, atomically:
        two schedulers never hold the same timer at once. `kinds` keeps the claim to timers that
        the caller can handle (None: any kind; empty: none).
        """
        _aware(now, "now")
        if lease_s <= 0 or limit < 1:
            raise ValueError("lease_s must be positive and limit at least 1")
        if kinds is not None and not kinds:
            return []
        claimable = _claimable(now, kinds)
        # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED):
        # PostgreSQL may run such a subquery again for each row it updates, and every rerun skips
        # the rows already updated and so yields new ones, claiming more than `limit`.
        pick = (
            select(TIMERS.c.id)
            .where(claimable)
            .order_by(TIMERS.c.due_at, TIMERS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: locks them; SQLite renders no clause
        )
        values = {
            "lease_owner": owner,
            "lease_expires_at": now + timedelta(seconds=lease_s),
            "attempts": TIMERS.c.attempts + 1,
            "updated_at": now,
        }

        def work(connection: Connection) -> list[Timer]:
            ids = list(connection.execute(pick).scalars())
            if not ids:
                return []
            # The compare-and-set: on SQLite another scheduler may have claimed one since the pick.
            claim = update(TIMERS).where(TIMERS.c.id.in_(ids), claimable).values(values).returning(*TIMERS.c)
            claimed = [Timer.from_row(row) for row in connection.execute(claim)]
            return sorted(claimed, key=lambda timer: (timer.due_at, timer.id))

        return await self._db.write(work)

    async def complete(self, timer_id: str, owner: str) -> bool:
        """Mark a timer done; False (and nothing changed) if `owner` no longer holds it."""
        now = self._clock.now()
        return await self._finish(
            timer_id, owner, state=TimerState.DONE, fired_at=now, lease_expires_at=None, updated_at=now
        )

    async def fail_attempt(self, timer_id: str, owner: str, error: str, retry_at: datetime) -> bool:
        """Record a failed attempt and let the timer fire again at `retry_at` (it becomes its due
        time); False if `owner` no longer holds it."""
        _aware(retry_at, "retry_at")
        return await self._finish(
            timer_id,
            owner,
            due_at=retry_at,
            lease_owner=None,
            lease_expires_at=None,
            last_error=error[:MAX_ERROR_CHARS],
            updated_at=self._clock.now(),
        )

    async def give_up(self, timer_id: str, owner: str, error: str) -> bool:
        """Mark a timer failed for good, with the reason; False if `owner` no longer holds it."""
        return await self._finish(
            timer_id,
            owner,
            state=TimerState.FAILED,
            lease_expires_at=None,
            last_error=error[:MAX_ERROR_CHARS],
            updated_at=self._clock.now(),
        )

    async def release(self, timer_id: str, owner: str) -> bool:
        """Hand a claimed timer back untried: the lease goes and its attempt is not counted."""
        return await self._finish(
            timer_id,
            owner,
            lease_owner=None,
            lease_expires_at=None,
            attempts=case((TIMERS.c.attempts > 0, TIMERS.c.attempts - 1), else_=0),
            updated_at=self._clock.now(),
        )

    async def _finish(self, timer_id: str, owner: str, **values: Any) -> bool:
        statement = update(TIMERS).where(_held_by(timer_id, owner)).values(values).returning(TIMERS.c.id)
        return await self._db.write(lambda c: c.execute(statement).scalar_one_or_none() is not None)

    async def unhandled_due(self, now: datetime, kinds: Collection[str]) -> dict[str, int]:
        """Due, pending timers whose kind is not in `kinds`, counted by kind (nobody here fires them)."""
        statement = (
            select(TIMERS.c.kind, func.count())
            .where(TIMERS.c.state == TimerState.PENDING, TIMERS.c.due_at <= now)
            .group_by(TIMERS.c.kind)
        )
        if kinds:
            statement = statement.where(TIMERS.c.kind.not_in(sorted(kinds)))
        return await self._db.write(lambda c: {kind: int(n) for kind, n in c.execute(statement)})
