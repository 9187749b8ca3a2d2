"""The job repository's SQL: table handles, conditions, and the hot statements built once.

The hot statements take their values as parameters. SQLAlchemy memoises a statement's cache key on
the object, so a prebuilt statement skips both building and keying on every call; as a
`DirectStatement` it also runs straight on SQLite's driver (bot/db/direct.py).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Float,
    Integer,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from bot.db.direct import DirectStatement
from bot.db.jobs.record import JobRecord, LimitReached, MemberQuota
from bot.db.models import ArtifactRow, JobRow, QueueClockRow, UTCDateTime
from bot.db.status import ACTIVE_STATUSES, FINISHED_STATUSES, IN_FLIGHT_STATUSES, PENDING_STATUSES, JobStatus
from wire.contract import AnyJob, parse_job

JOBS: Table = JobRow.__table__  # type: ignore[assignment]
QUEUE_CLOCKS: Table = QueueClockRow.__table__  # type: ignore[assignment]
ARTIFACTS: Table = ArtifactRow.__table__  # type: ignore[assignment]

T = TypeVar("T")
Op = Callable[[Connection], T]
"""A unit of work: run it with `JobRepository.run` or, several in one transaction, `run_all`."""


def status_in(statuses: Iterable[JobStatus]) -> ColumnElement[bool]:
    """`status IN (...)` written as plain comparisons: SQLAlchemy renders an IN list again on every
    execution ("expanding" parameters), which was a seventh of the bot's database time per event."""
    return or_(*(JOBS.c.status == status for status in sorted(statuses)))


def is_active() -> ColumnElement[bool]:
    return status_in(ACTIVE_STATUSES)


def finished_undelivered() -> ColumnElement[bool]:
    return and_(status_in(FINISHED_STATUSES), JOBS.c.delivered_at.is_(None))


def not_being_sent(now: datetime, lease_s: float) -> ColumnElement[bool]:
    """No delivery claim, or one older than its lease (its sender died)."""
    claimed = JOBS.c.delivery_claimed_at
    return or_(claimed.is_(None), claimed < now - timedelta(seconds=lease_s))


def update_job(job_id: str) -> Update:
    """An UPDATE of one job."""
    return update(JOBS).where(JOBS.c.id == job_id)


def utc_value(value: datetime) -> ColumnElement[datetime]:
    """A datetime parameter converted like a column value (UTC), for use inside SQL functions."""
    return literal(value, UTCDateTime())


def fetch_records(connection: Connection, statement: Select[Any]) -> list[JobRecord]:
    """Run a select of jobs and load their artifacts with a second query."""
    rows: Sequence[Row[Any]] = connection.execute(statement).all()
    if not rows:
        return []
    found = connection.execute(
        select(ARTIFACTS).where(ARTIFACTS.c.job_id.in_([row.id for row in rows])).order_by(ARTIFACTS.c.id)
    )
    by_job: dict[str, list[Row[Any]]] = {}
    for artifact_row in found:
        by_job.setdefault(artifact_row.job_id, []).append(artifact_row)
    return [JobRecord.from_row(row, by_job.get(row.id, ())) for row in rows]


def position_in_line(
    connection: Connection, job_id: str, modality: str, created: datetime, status: str, fair_key: float | None
) -> int:
    """1 + the jobs that start before this one: those on the broker ahead of it, and, for a waiting
    job, the waiting jobs that the fair order releases first."""
    params = {"job_id": job_id, "p_modality": modality, "p_created": created}
    if status != JobStatus.WAITING:
        return 1 + int(QUEUED_AHEAD.scalar(connection, params) or 0)
    queued = int(ALL_QUEUED.scalar(connection, params) or 0)
    waiting = int(WAITING_AHEAD.scalar(connection, {**params, "p_key": fair_key}) or 0)
    return 1 + queued + waiting


def queue_state(connection: Connection, modality: str) -> tuple[int, bool]:
    """(jobs of the modality queued or running, whether any wait behind them)."""
    row = QUEUE_STATE.first(connection, {"p_modality": modality})
    return (int(row.in_flight), bool(row.backlog)) if row is not None else (0, False)


def release_waiting(connection: Connection, modality: str, capacity: int, now: datetime) -> list[AnyJob]:
    """Move the oldest waiting jobs of a modality to queued while it has room; the jobs moved."""
    in_flight, backlog = queue_state(connection, modality)
    room = capacity - in_flight
    if room <= 0 or not backlog:
        return []
    released = []
    for row in OLDEST_WAITING.rows(connection, {"p_modality": modality, "p_limit": room}):
        if RELEASE.scalar(connection, {"job_id": row.id, "p_now": now}) is not None:
            released.append(parse_job(row.payload))
            if row.fair_key is not None:
                ADVANCE_CLOCK.rows(connection, {"p_modality": modality, "p_key": row.fair_key})
    return released


def fair_key(connection: Connection, job: AnyJob, weight: float) -> float:
    """A waiting job's release key (start-time fair queuing, two levels).

    Each server is a flow with its weight, split evenly among its members who have jobs waiting:
    a job's key is its member's last waiting key (or the modality's clock, if later) plus the number
    of the server's waiting members over the server's weight. Lower keys are released first, so the
    servers with jobs waiting take turns in proportion to their weights, and within a server its
    members take turns; a new server's first job is released after at most one job of each other
    waiting server (two, for a server of weight 2). The clock is the key of the job released last.
    """
    params = {"p_modality": job.modality, "p_guild": job.guild_id or 0, "p_user": job.user_id or 0}
    row = FAIR_STATE.first(connection, params)
    if row is None:  # a select of scalar subqueries always returns its one row
        raise RuntimeError("the fair state query returned no row")
    clock = float(row.clock or 0.0)
    last = row.member_last
    members = int(row.members or 0) + (0 if row.mine else 1)
    start = max(clock, float(last)) if last is not None else clock
    return start + members / max(weight, 1e-6)


def check_quota(connection: Connection, job: AnyJob, quota: MemberQuota, now: datetime) -> None:
    """Raise LimitReached if storing `job` would break its member's limits on its server.

    Runs in the transaction that stores the job: on SQLite the writer lock already orders a
    member's submissions; on PostgreSQL a transaction-scoped advisory lock on the member does.
    """
    if job.guild_id is None or job.user_id is None:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(MEMBER_LOCK, {"key": member_lock_key(job.guild_id, job.user_id)})
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    row = MEMBER_STATE.first(connection, {"p_guild": job.guild_id, "p_user": job.user_id, "p_day": day})
    if row is None:
        return
    if row.active >= quota.concurrent_jobs:
        raise LimitReached("concurrent", quota.concurrent_jobs)
    if quota.cooldown_s and row.last_at is not None:
        ready = row.last_at + timedelta(seconds=quota.cooldown_s)
        if ready > now:
            raise LimitReached("cooldown", quota.cooldown_s, ready)
    if row.today >= quota.daily_jobs:
        raise LimitReached("daily", quota.daily_jobs, day + timedelta(days=1))
    if row.server_pending >= quota.queue_cap:
        raise LimitReached("queue", quota.queue_cap)


MEMBER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def member_lock_key(guild_id: int, user_id: int) -> int:
    """A stable signed 64-bit key for a member on a server (PostgreSQL advisory locks take bigints)."""
    digest = hashlib.blake2b(f"atelier-member:{guild_id}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def update_one(statement: Update) -> Op[bool]:
    """A conditional UPDATE of one job, built for this call; True if it matched."""
    returning = statement.returning(JOBS.c.id)
    return lambda connection: connection.execute(returning).scalar_one_or_none() is not None


def update_prebuilt(statement: DirectStatement, params: dict[str, Any]) -> Op[bool]:
    """A prebuilt conditional UPDATE of one job that returns its id; True if it matched."""
    return lambda connection: statement.scalar(connection, params) is not None


def param(name: str, column: str) -> BindParameter[Any]:
    """A named parameter typed like `column` (named apart from it: SET clauses reserve column names)."""
    return bindparam(name, type_=JOBS.c[column].type)


# The hot statements (building and cache-keying them per call was a third of the bot's CPU per event).
INSERT_JOB = DirectStatement(insert(JOBS).values({c.name: param(f"p_{c.name}", c.name) for c in JOBS.c}))
WHERE_JOB = JOBS.c.id == bindparam("job_id")
_BEFORE_BY_TIME = or_(  # created before this job (ties broken by id)
    JOBS.c.created_at < param("p_created", "created_at"),
    and_(JOBS.c.created_at == param("p_created", "created_at"), JOBS.c.id < bindparam("job_id")),
)
QUEUED_AHEAD = DirectStatement(  # on the broker ahead of a queued job: FIFO
    select(func.count())
    .select_from(JOBS)
    .where(
        JOBS.c.status == JobStatus.QUEUED, JOBS.c.modality == param("p_modality", "modality"), _BEFORE_BY_TIME
    )
)
ALL_QUEUED = DirectStatement(
    select(func.count())
    .select_from(JOBS)
    .where(JOBS.c.status == JobStatus.QUEUED, JOBS.c.modality == param("p_modality", "modality"))
)
WAITING_AHEAD = DirectStatement(  # waiting jobs that the fair order releases before this one
    select(func.count())
    .select_from(JOBS)
    .where(
        JOBS.c.status == JobStatus.WAITING,
        JOBS.c.modality == param("p_modality", "modality"),
        or_(
            JOBS.c.fair_key < param("p_key", "fair_key"),
            and_(JOBS.c.fair_key == param("p_key", "fair_key"), _BEFORE_BY_TIME),
        ),
    )
)
_OF_MODALITY = JOBS.c.modality == param("p_modality", "modality")
QUEUE_STATE = DirectStatement(  # how full a modality's queue is, and whether jobs wait behind it
    select(
        select(func.count())
        .select_from(JOBS)
        .where(status_in(IN_FLIGHT_STATUSES), _OF_MODALITY)
        .scalar_subquery()
        .label("in_flight"),
        select(JOBS.c.id)
        .where(JOBS.c.status == JobStatus.WAITING, _OF_MODALITY)
        .limit(1)
        .exists()
        .label("backlog"),
    )
)
OLDEST_WAITING = DirectStatement(  # the release order: the fair key, then age
    select(JOBS.c.id, JOBS.c.payload, JOBS.c.fair_key)
    .where(JOBS.c.status == JobStatus.WAITING, _OF_MODALITY)
    .order_by(JOBS.c.fair_key, JOBS.c.created_at, JOBS.c.id)
    .limit(bindparam("p_limit", type_=Integer()))
)
_SAME_FLOW = and_(
    JOBS.c.status == JobStatus.WAITING,
    _OF_MODALITY,
    func.coalesce(JOBS.c.guild_id, 0) == bindparam("p_guild", type_=BigInteger()),
)
FAIR_STATE = DirectStatement(  # what a new waiting job's key depends on
    select(
        select(QUEUE_CLOCKS.c.virtual)
        .where(QUEUE_CLOCKS.c.modality == param("p_modality", "modality"))
        .scalar_subquery()
        .label("clock"),
        select(func.max(JOBS.c.fair_key))
        .where(_SAME_FLOW, func.coalesce(JOBS.c.user_id, 0) == bindparam("p_user", type_=BigInteger()))
        .scalar_subquery()
        .label("member_last"),
        select(func.count(func.distinct(func.coalesce(JOBS.c.user_id, 0))))
        .where(_SAME_FLOW)
        .scalar_subquery()
        .label("members"),
        select(func.count())
        .select_from(JOBS)
        .where(_SAME_FLOW, func.coalesce(JOBS.c.user_id, 0) == bindparam("p_user", type_=BigInteger()))
        .scalar_subquery()
        .label("mine"),
    )
)
ADVANCE_CLOCK = DirectStatement(
    update(QUEUE_CLOCKS)
    .where(
        QUEUE_CLOCKS.c.modality == param("p_modality", "modality"),
        QUEUE_CLOCKS.c.virtual < bindparam("p_key", type_=Float()),
    )
    .values(virtual=bindparam("p_key", type_=Float()))
)
_MEMBER = and_(JOBS.c.guild_id == param("p_guild", "guild_id"), JOBS.c.user_id == param("p_user", "user_id"))
MEMBER_STATE = DirectStatement(  # what a member's limits count, in one round trip
    select(
        select(func.count())
        .select_from(JOBS)
        .where(_MEMBER, status_in(ACTIVE_STATUSES))
        .scalar_subquery()
        .label("active"),
        select(func.max(JOBS.c.created_at)).where(_MEMBER).scalar_subquery().label("last_at"),
        select(func.count())
        .select_from(JOBS)
        .where(
            _MEMBER,
            JOBS.c.created_at >= param("p_day", "created_at"),
            or_(JOBS.c.started_at.is_not(None), status_in(ACTIVE_STATUSES)),  # never-run jobs don't count
        )
        .scalar_subquery()
        .label("today"),
        select(func.count())
        .select_from(JOBS)
        .where(JOBS.c.guild_id == param("p_guild", "guild_id"), status_in(PENDING_STATUSES))
        .scalar_subquery()
        .label("server_pending"),
    )
)
RELEASE = DirectStatement(
    update(JOBS)
    .where(WHERE_JOB, JOBS.c.status == JobStatus.WAITING)
    .values(status=JobStatus.QUEUED, updated_at=param("p_now", "updated_at"))
    .returning(JOBS.c.id)
)
ATTEMPTS_AT_LEAST = case(  # a late or repeated event never lowers the count
    (JOBS.c.attempts < bindparam("p_attempt", type_=Integer()), bindparam("p_attempt", type_=Integer())),
    else_=JOBS.c.attempts,
)
MARK_RUNNING = DirectStatement(
    update(JOBS)
    .where(WHERE_JOB, is_active())
    .values(
        status=JobStatus.RUNNING,
        worker=param("p_worker", "worker"),
        started_at=param("p_started_at", "started_at"),
        attempts=ATTEMPTS_AT_LEAST,
        updated_at=param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)
RECORD_PROGRESS = DirectStatement(
    update(JOBS)
    .where(WHERE_JOB, is_active())
    .values(
        progress=param("p_progress", "progress"),
        progress_message=param("p_message", "progress_message"),
        updated_at=param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)
RESULT_COLUMNS = ("status", "result", "error", "error_code", "finished_at", "updated_at")


@functools.cache
def record_result_statement(
    with_worker: bool, with_started: bool, succeeded: bool, with_attempt: bool = False, lean: bool = False
) -> DirectStatement:
    """The finishing UPDATE for one combination of the optional values (32 at most). A lean one does
    not return the job's payload and result: the caller already holds both."""
    values: dict[str, Any] = {column: param(f"p_{column}", column) for column in RESULT_COLUMNS}
    if with_attempt:
        values["attempts"] = ATTEMPTS_AT_LEAST
    if with_worker:
        values["worker"] = param("p_worker", "worker")
    if with_started:
        values["started_at"] = func.coalesce(JOBS.c.started_at, param("p_started_at", "started_at"))
    if succeeded:
        values["progress"] = 1.0
    returned = [column for column in JOBS.c if not (lean and column.name in ("payload", "result"))]
    return DirectStatement(update(JOBS).where(WHERE_JOB, is_active()).values(**values).returning(*returned))


INSERT_ARTIFACTS = insert(ARTIFACTS)
RELAXED_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
MARK_DELIVERED = DirectStatement(
    update(JOBS)
    .where(WHERE_JOB, finished_undelivered())
    .values(
        status=JobStatus.DELIVERED,
        delivered_at=param("p_now", "delivered_at"),
        updated_at=param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)
