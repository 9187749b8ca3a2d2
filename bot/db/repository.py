"""The only way the bot reads and writes jobs: typed records in, typed records out, no rows leak.

Every state change is a conditional UPDATE (compare-and-set) whose first statement takes the write
lock, so concurrent callers (event consumer, reconciler, slash commands) never overwrite a newer
state with an older one, on SQLite and PostgreSQL alike.

Each operation is a unit of work: a plain function over a Connection that runs SQLAlchemy Core
statements (about a quarter of the ORM session's cost per statement), run in one transaction by a
`Database` (bot/db/database.py). The `*_op` methods return such units without running them, so a
caller can run several in one transaction with `run_all`: the event consumer records a whole batch
of worker events in one commit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
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
from sqlalchemy.exc import IntegrityError

from bot.db.database import Database, open_database
from bot.db.direct import DirectStatement
from bot.db.models import ArtifactRow, JobRow, UTCDateTime
from bot.db.status import FINISHED_STATUSES, JobStatus
from wire.contract import (
    ArtifactRef,
    ErrorCode,
    ImageJob,
    JobResult,
    Modality,
    MusicJob,
    TextJob,
    parse_job,
    utcnow,
)

ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
DELIVERY_LEASE_S = 300.0
"""How long a delivery claim holds: longer than any send (uploads included) should take."""


class JobNotFoundError(LookupError):
    """No job has this id."""


class JobAlreadyExistsError(ValueError):
    """A job with this id is already stored."""


class CancelOutcome(StrEnum):
    """What `JobRepository.request_cancel` did."""

    NOT_FOUND = "not_found"
    ALREADY_FINISHED = "already_finished"
    CANCELLED = "cancelled"
    """It was still queued: it is cancelled now and will never run."""
    REQUESTED = "requested"
    """It is running: the worker has been asked to stop it."""


class JobRecord(BaseModel):
    """A read-only snapshot of one stored job, with its contract objects parsed."""

    model_config = ConfigDict(frozen=True)

    id: str
    modality: Modality
    status: JobStatus
    preset: str | None
    guild_id: int | None
    channel_id: int | None
    user_id: int | None
    parent_id: str | None
    job: MusicJob | ImageJob | TextJob
    attempts: int
    progress: float
    progress_message: str | None
    result: JobResult | None
    error: str | None
    error_code: ErrorCode | None
    worker: str | None
    delivery_target: dict[str, Any] | None = Field(repr=False)
    artifacts: tuple[ArtifactRef, ...]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    delivered_at: datetime | None
    delivery_claimed_at: datetime | None = None
    cancel_requested_at: datetime | None
    updated_at: datetime

    @property
    def outcome(self) -> JobStatus | None:
        """How it ended (succeeded, failed, cancelled), still known after delivery; None while active."""
        return JobStatus(self.result.status) if self.result is not None else None

    @property
    def is_active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_STATUSES

    @classmethod
    def from_row(
        cls,
        row: JobRow | Row[Any] | SimpleNamespace,
        artifacts: Iterable[Any] | None = None,
        *,
        job: MusicJob | ImageJob | TextJob | None = None,
        result: JobResult | None = None,
    ) -> JobRecord:
        """Build a record from a jobs row and its artifacts (by default, an ORM row's loaded ones).

        `job` and `result`, when the caller already holds the objects that the row stores, spare
        parsing them again from the row's JSON.
        """
        if result is None and row.result is not None:
            result = JobResult.model_validate(row.result)
        return cls(
            id=row.id,
            modality=row.modality,  # type: ignore[arg-type]
            status=row.status,
            preset=row.preset,
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            user_id=row.user_id,
            parent_id=row.parent_id,
            job=job if job is not None else parse_job(row.payload),
            attempts=row.attempts,
            progress=row.progress,
            progress_message=row.progress_message,
            result=result,
            error=row.error,
            error_code=ErrorCode(row.error_code) if row.error_code else None,
            worker=row.worker,
            delivery_target=row.delivery_target,
            artifacts=tuple(
                ArtifactRef.model_validate(a, from_attributes=True)
                for a in (row.artifacts if artifacts is None else artifacts)  # type: ignore[union-attr]
            ),
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            delivered_at=row.delivered_at,
            delivery_claimed_at=row.delivery_claimed_at,
            cancel_requested_at=row.cancel_requested_at,
            updated_at=row.updated_at,
        )


JOBS: Table = JobRow.__table__  # type: ignore[assignment]
ARTIFACTS: Table = ArtifactRow.__table__  # type: ignore[assignment]

T = TypeVar("T")
Op = Callable[[Connection], T]
"""A unit of work: run it with `JobRepository.run` or, several in one transaction, `run_all`."""


def _status_in(statuses: Iterable[JobStatus]) -> ColumnElement[bool]:
    """`status IN (...)` written as plain comparisons: SQLAlchemy renders an IN list again on every
    execution ("expanding" parameters), which was a seventh of the bot's database time per event."""
    return or_(*(JOBS.c.status == status for status in sorted(statuses)))


def _is_active() -> ColumnElement[bool]:
    return _status_in(ACTIVE_STATUSES)


def _finished_undelivered() -> ColumnElement[bool]:
    return and_(_status_in(FINISHED_STATUSES), JOBS.c.delivered_at.is_(None))


def _not_being_sent(now: datetime, lease_s: float) -> ColumnElement[bool]:
    """No delivery claim, or one older than its lease (its sender died)."""
    claimed = JOBS.c.delivery_claimed_at
    return or_(claimed.is_(None), claimed < now - timedelta(seconds=lease_s))


def _update_job(job_id: str) -> Update:
    """An UPDATE of one job."""
    return update(JOBS).where(JOBS.c.id == job_id)


def _utc(value: datetime) -> ColumnElement[datetime]:
    """A datetime parameter converted like a column value (UTC), for use inside SQL functions."""
    return literal(value, UTCDateTime())


def _fetch(connection: Connection, statement: Select[Any]) -> list[JobRecord]:
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


def _queue_position(connection: Connection, job_id: str, modality: str, created: datetime) -> int:
    ahead = _QUEUE_AHEAD.scalar(connection, {"job_id": job_id, "p_modality": modality, "p_created": created})
    return 1 + int(ahead or 0)


def _update_one(statement: Update) -> Op[bool]:
    """A conditional UPDATE of one job, built for this call; True if it matched."""
    returning = statement.returning(JOBS.c.id)
    return lambda connection: connection.execute(returning).scalar_one_or_none() is not None


def _update_prebuilt(statement: DirectStatement, params: dict[str, Any]) -> Op[bool]:
    """A prebuilt conditional UPDATE of one job that returns its id; True if it matched."""
    return lambda connection: statement.scalar(connection, params) is not None


def _param(name: str, column: str) -> BindParameter[Any]:
    """A named parameter typed like `column` (named apart from it: SET clauses reserve column names)."""
    return bindparam(name, type_=JOBS.c[column].type)


# The hot statements are built once and take their values as parameters. SQLAlchemy memoises a
# statement's cache key on the object, so a prebuilt statement skips both building and keying on
# every call (a third of the bot's CPU per event before); as a DirectStatement it also runs straight
# on SQLite's driver (bot/db/direct.py).
_INSERT_JOB = DirectStatement(insert(JOBS).values({c.name: _param(f"p_{c.name}", c.name) for c in JOBS.c}))
_WHERE_JOB = JOBS.c.id == bindparam("job_id")
_QUEUE_AHEAD = DirectStatement(
    select(func.count())
    .select_from(JOBS)
    .where(
        JOBS.c.status == JobStatus.QUEUED,
        JOBS.c.modality == _param("p_modality", "modality"),
        or_(
            JOBS.c.created_at < _param("p_created", "created_at"),
            and_(JOBS.c.created_at == _param("p_created", "created_at"), JOBS.c.id < bindparam("job_id")),
        ),
    )
)
_ATTEMPTS_AT_LEAST = case(  # a late or repeated event never lowers the count
    (JOBS.c.attempts < bindparam("p_attempt", type_=Integer()), bindparam("p_attempt", type_=Integer())),
    else_=JOBS.c.attempts,
)
_MARK_RUNNING = DirectStatement(
    update(JOBS)
    .where(_WHERE_JOB, _is_active())
    .values(
        status=JobStatus.RUNNING,
        worker=_param("p_worker", "worker"),
        started_at=_param("p_started_at", "started_at"),
        attempts=_ATTEMPTS_AT_LEAST,
        updated_at=_param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)
_RECORD_PROGRESS = DirectStatement(
    update(JOBS)
    .where(_WHERE_JOB, _is_active())
    .values(
        progress=_param("p_progress", "progress"),
        progress_message=_param("p_message", "progress_message"),
        updated_at=_param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)
_RESULT_COLUMNS = ("status", "result", "error", "error_code", "finished_at", "updated_at")


@functools.cache
def _record_result_statement(
    with_worker: bool, with_started: bool, succeeded: bool, with_attempt: bool = False, lean: bool = False
) -> DirectStatement:
    """The finishing UPDATE for one combination of the optional values (32 at most). A lean one does
    not return the job's payload and result: the caller already holds both."""
    values: dict[str, Any] = {column: _param(f"p_{column}", column) for column in _RESULT_COLUMNS}
    if with_attempt:
        values["attempts"] = _ATTEMPTS_AT_LEAST
    if with_worker:
        values["worker"] = _param("p_worker", "worker")
    if with_started:
        values["started_at"] = func.coalesce(JOBS.c.started_at, _param("p_started_at", "started_at"))
    if succeeded:
        values["progress"] = 1.0
    returned = [column for column in JOBS.c if not (lean and column.name in ("payload", "result"))]
    return DirectStatement(update(JOBS).where(_WHERE_JOB, _is_active()).values(**values).returning(*returned))


_INSERT_ARTIFACTS = insert(ARTIFACTS)
_RELAXED_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
_CLAIM_DELIVERY = DirectStatement(
    update(JOBS)
    .where(_WHERE_JOB, _finished_undelivered())
    .values(
        status=JobStatus.DELIVERED,
        delivered_at=_param("p_now", "delivered_at"),
        updated_at=_param("p_now", "updated_at"),
    )
    .returning(JOBS.c.id)
)


class JobRepository:
    """Jobs in the database, for the bot side (workers never touch it)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, url: str) -> JobRepository:
        """A repository on the database at `url` (already migrated); close it with `close()`."""
        return cls(open_database(url))

    async def close(self) -> None:
        await self._db.close()

    async def run(self, op: Op[T]) -> T:
        """Run one unit of work in its own transaction."""
        return await self._db.write(op)

    async def run_all(self, ops: Sequence[Op[Any]]) -> list[Any]:
        """Run units of work in order in one transaction: all of them commit, or none."""
        return await self._db.write(lambda connection: [op(connection) for op in ops])

    @staticmethod
    def relaxed_commit_op(connection: Connection) -> None:
        """Let this transaction commit without waiting for its WAL flush (PostgreSQL; SQLite's WAL
        mode with synchronous=NORMAL already does so). Only for writes that a later write supersedes."""
        if connection.dialect.name == "postgresql":
            connection.execute(_RELAXED_COMMIT)

    # --- create ---------------------------------------------------------------------------------

    async def create(
        self, job: MusicJob | ImageJob | TextJob, delivery_target: dict[str, Any] | None = None
    ) -> JobRecord:
        """Store a new job as queued; raise JobAlreadyExistsError if its id is taken."""
        values, _ = await self._store(job, delivery_target, rank=False)
        return JobRecord.from_row(SimpleNamespace(**values), (), job=job)  # as stored, no re-read

    async def store_ranked(
        self, job: MusicJob | ImageJob | TextJob, delivery_target: dict[str, Any] | None = None
    ) -> int:
        """Store a new queued job and return its queue position, in one transaction (no record is
        built: submitting needs only the position)."""
        _, position = await self._store(job, delivery_target, rank=True)
        return position

    async def _store(
        self, job: MusicJob | ImageJob | TextJob, delivery_target: dict[str, Any] | None, *, rank: bool
    ) -> tuple[dict[str, Any], int]:
        values: dict[str, Any] = {
            "id": job.id,
            "modality": job.modality,
            "status": JobStatus.QUEUED,
            "preset": job.preset,
            "guild_id": job.guild_id,
            "channel_id": job.channel_id,
            "user_id": job.user_id,
            "parent_id": job.parent_id,
            "payload": job.model_dump(mode="json"),
            "attempts": 0,
            "progress": 0.0,
            "progress_message": None,
            "result": None,
            "error": None,
            "error_code": None,
            "worker": None,
            "delivery_target": delivery_target,
            "created_at": job.created_at,
            "started_at": None,
            "finished_at": None,
            "delivered_at": None,
            "delivery_claimed_at": None,
            "cancel_requested_at": None,
            "updated_at": utcnow(),
        }

        def work(connection: Connection) -> int:
            _INSERT_JOB.rows(connection, {f"p_{name}": value for name, value in values.items()})
            return _queue_position(connection, job.id, job.modality, job.created_at) if rank else 0

        try:
            position = await self.run(work)
        except IntegrityError as error:
            raise JobAlreadyExistsError(f"job {job.id} already exists") from error
        return values, position

    # --- reads ----------------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        found = await self._fetch(select(JOBS).where(JOBS.c.id == job_id))
        return found[0] if found else None

    async def find_by_prefix(self, prefix: str, limit: int = 2) -> list[JobRecord]:
        """Jobs whose id starts with `prefix` (a watermark carries only the first 8 hex digits)."""
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        return await self._fetch(
            select(JOBS).where(JOBS.c.id.startswith(prefix)).order_by(JOBS.c.id).limit(limit)
        )

    async def list_for_user(self, user_id: int, limit: int = 10) -> list[JobRecord]:
        """A member's jobs, newest first."""
        statement = (
            select(JOBS)
            .where(JOBS.c.user_id == user_id)
            .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
            .limit(limit)
        )
        return await self._fetch(statement)

    async def list_recent(self, limit: int = 20, status: JobStatus | None = None) -> list[JobRecord]:
        """The newest jobs, optionally only those with `status`."""
        statement = select(JOBS).order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(JOBS.c.status == status)
        return await self._fetch(statement)

    async def queue_position(self, job_id: str) -> int:
        """1 + the queued jobs of the same modality created before it; 0 if it is not queued."""

        def work(connection: Connection) -> int:
            row = connection.execute(
                select(JOBS.c.modality, JOBS.c.status, JOBS.c.created_at).where(JOBS.c.id == job_id)
            ).one_or_none()
            if row is None or row.status != JobStatus.QUEUED:
                return 0
            return _queue_position(connection, job_id, row.modality, row.created_at)

        return await self.run(work)

    async def find_stuck(self, queued_before: datetime, running_before: datetime) -> list[JobRecord]:
        """Jobs queued before `queued_before` that never started, or running since before `running_before`."""
        statement = (
            select(JOBS)
            .where(
                or_(
                    and_(
                        JOBS.c.status == JobStatus.QUEUED,
                        JOBS.c.started_at.is_(None),
                        JOBS.c.created_at < queued_before,
                    ),
                    and_(JOBS.c.status == JobStatus.RUNNING, JOBS.c.started_at < running_before),
                )
            )
            .order_by(JOBS.c.created_at, JOBS.c.id)
        )
        return await self._fetch(statement)

    async def undelivered_finished(
        self, limit: int = 50, target_kind: str | None = None, lease_s: float = DELIVERY_LEASE_S
    ) -> list[JobRecord]:
        """Finished jobs not yet delivered and not being sent, oldest first (only for `target_kind`, if given).

        A job whose delivery claim is older than `lease_s` counts as not being sent: its sender died.
        """
        statement = select(JOBS).where(_finished_undelivered(), _not_being_sent(utcnow(), lease_s))
        if target_kind is not None:
            statement = statement.where(JOBS.c.delivery_target["kind"].as_string() == target_kind)
        return await self._fetch(statement.order_by(JOBS.c.finished_at, JOBS.c.id).limit(limit))

    async def _fetch(self, statement: Select[Any]) -> list[JobRecord]:
        return await self.run(lambda connection: _fetch(connection, statement))

    # --- the worker's events --------------------------------------------------------------------

    def mark_running_op(self, job_id: str, worker: str, at: datetime, attempt: int) -> Op[bool]:
        """A worker started (or restarted) the job; False if it is unknown or already over."""
        params = {
            "job_id": job_id,
            "p_worker": worker,
            "p_started_at": at,
            "p_attempt": attempt,
            "p_now": utcnow(),
        }
        return _update_prebuilt(_MARK_RUNNING, params)

    async def mark_running(self, job_id: str, worker: str, at: datetime, attempt: int) -> bool:
        """A worker started (or restarted) the job; False if it is unknown or already over."""
        return await self.run(self.mark_running_op(job_id, worker, at, attempt))

    def record_progress_op(self, job_id: str, fraction: float, message: str) -> Op[bool]:
        """Store how far along an active job is; False if it is unknown or already over."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"progress fraction must be within 0..1, got {fraction}")
        params = {"job_id": job_id, "p_progress": fraction, "p_message": message, "p_now": utcnow()}
        return _update_prebuilt(_RECORD_PROGRESS, params)

    async def record_progress(self, job_id: str, fraction: float, message: str) -> bool:
        """Store how far along an active job is; False if it is unknown or already over."""
        return await self.run(self.record_progress_op(job_id, fraction, message))

    def record_result_op(
        self, result: JobResult, attempt: int | None = None, job: MusicJob | ImageJob | TextJob | None = None
    ) -> Op[JobRecord | None]:
        """Store a worker's result and its artifacts, once; the finished job, or None if it was over.

        `attempt`, from the job's started event when both arrive together, is counted as that event
        would have counted it (so the started event need not be written first). `job`, when the
        caller still holds the job it submitted, is not read back and parsed from the database.
        """
        statement = _record_result_statement(
            result.worker is not None,
            result.started_at is not None,
            result.status == JobStatus.SUCCEEDED,
            attempt is not None,
            job is not None,
        )
        params: dict[str, Any] = {
            "job_id": result.job_id,
            "p_status": JobStatus(result.status),
            "p_result": result.model_dump(mode="json"),
            "p_error": result.error,
            "p_error_code": result.error_code.value if result.error_code else None,
            "p_finished_at": result.finished_at,
            "p_updated_at": utcnow(),
            "p_worker": result.worker,
            "p_started_at": result.started_at,
        }
        if attempt is not None:
            params["p_attempt"] = attempt

        def work(connection: Connection) -> JobRecord | None:
            row = statement.first(connection, params)
            if row is None:
                return None
            if result.artifacts:
                now = utcnow()
                connection.execute(
                    _INSERT_ARTIFACTS,
                    [
                        {"job_id": result.job_id, "created_at": now, **a.model_dump()}
                        for a in result.artifacts
                    ],
                )
            return JobRecord.from_row(row, result.artifacts, job=job, result=result)

        return work

    async def record_result(self, result: JobResult) -> JobRecord | None:
        """Store a worker's result and its artifacts, once; the finished job, or None if it was over."""
        return await self.run(self.record_result_op(result))

    # --- cancel, delivery, the reconciler -------------------------------------------------------

    async def request_cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a queued job at once, or ask the worker to stop a running one."""
        now = utcnow()
        cancelled = JobResult(
            job_id=job_id,
            status=JobStatus.CANCELLED,
            error="cancelled before it started",
            error_code=ErrorCode.CANCELLED,
            finished_at=now,
        )
        cancel_queued = (
            _update_job(job_id)
            .where(JOBS.c.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.CANCELLED,
                result=cancelled.model_dump(mode="json"),
                error=cancelled.error,
                error_code=ErrorCode.CANCELLED.value,
                cancel_requested_at=now,
                finished_at=now,
                updated_at=now,
            )
            .returning(JOBS.c.id)
        )
        ask_worker = (
            _update_job(job_id)
            .where(JOBS.c.status == JobStatus.RUNNING)
            .values(cancel_requested_at=func.coalesce(JOBS.c.cancel_requested_at, _utc(now)), updated_at=now)
            .returning(JOBS.c.id)
        )

        def work(connection: Connection) -> CancelOutcome:
            if connection.execute(cancel_queued).scalar_one_or_none() is not None:
                return CancelOutcome.CANCELLED
            if connection.execute(ask_worker).scalar_one_or_none() is not None:
                return CancelOutcome.REQUESTED
            exists = connection.scalar(select(JOBS.c.id).where(JOBS.c.id == job_id))
            return CancelOutcome.ALREADY_FINISHED if exists is not None else CancelOutcome.NOT_FOUND

        return await self.run(work)

    async def claim_delivery(self, job_id: str) -> bool:
        """Atomically mark a finished job delivered; True only for the one caller that wins."""
        return await self.run(_update_prebuilt(_CLAIM_DELIVERY, {"job_id": job_id, "p_now": utcnow()}))

    async def begin_delivery(self, job_id: str, lease_s: float = DELIVERY_LEASE_S) -> bool:
        """Claim a finished, undelivered job for sending; True only for the one caller that wins.

        The claim is a lease: if this process dies before `finish_delivery` or `abandon_delivery`,
        the job is undelivered again once `lease_s` has passed, and another attempt sends it.
        """
        now = utcnow()
        statement = (
            _update_job(job_id)
            .where(_finished_undelivered(), _not_being_sent(now, lease_s))
            .values(delivery_claimed_at=now, updated_at=now)
        )
        return await self.run(_update_one(statement))

    async def finish_delivery(self, job_id: str) -> bool:
        """The claimed job's result was sent: mark it delivered; False if it was not claimed."""
        now = utcnow()
        statement = (
            _update_job(job_id)
            .where(_finished_undelivered(), JOBS.c.delivery_claimed_at.is_not(None))
            .values(status=JobStatus.DELIVERED, delivered_at=now, delivery_claimed_at=None, updated_at=now)
        )
        return await self.run(_update_one(statement))

    async def abandon_delivery(self, job_id: str) -> bool:
        """Sending failed: drop the claim so the job is retried at once; False if it was not claimed."""
        statement = (
            _update_job(job_id)
            .where(JOBS.c.delivered_at.is_(None), JOBS.c.delivery_claimed_at.is_not(None))
            .values(delivery_claimed_at=None, updated_at=utcnow())
        )
        return await self.run(_update_one(statement))

    async def release_delivery(self, job_id: str, outcome: JobStatus) -> bool:
        """Undo a claim whose delivery failed, so it is retried later; False if it was not claimed."""
        if outcome not in FINISHED_STATUSES:
            raise ValueError(f"a released job goes back to its outcome, not {outcome}")
        statement = (
            _update_job(job_id)
            .where(JOBS.c.status == JobStatus.DELIVERED)
            .values(status=outcome, delivered_at=None, updated_at=utcnow())
        )
        return await self.run(_update_one(statement))

    async def set_delivery_target(self, job_id: str, target: dict[str, Any] | None) -> bool:
        """Say where the result goes (a Discord interaction, a channel, the CLI); False if unknown."""
        return await self.run(
            _update_one(_update_job(job_id).values(delivery_target=target, updated_at=utcnow()))
        )

    async def bump_attempt(self, job_id: str) -> int:
        """Count one more attempt and return the new count; raise JobNotFoundError if unknown."""
        statement = (
            _update_job(job_id)
            .values(attempts=JOBS.c.attempts + 1, updated_at=utcnow())
            .returning(JOBS.c.attempts)
        )
        attempts = await self.run(lambda connection: connection.execute(statement).scalar_one_or_none())
        if attempts is None:
            raise JobNotFoundError(job_id)
        return int(attempts)

    async def fail(self, job_id: str, code: ErrorCode, reason: str) -> bool:
        """Finish an active job as failed with `code`; False if it is unknown or already over."""
        now = utcnow()
        mark_failed = (
            _update_job(job_id)
            .where(_is_active())
            .values(
                status=JobStatus.FAILED, error=reason, error_code=code.value, finished_at=now, updated_at=now
            )
            .returning(JOBS.c.worker, JOBS.c.started_at)
        )

        def work(connection: Connection) -> bool:
            failed = connection.execute(mark_failed).one_or_none()
            if failed is None:
                return False
            result = JobResult(
                job_id=job_id,
                status=JobStatus.FAILED,
                error=reason,
                error_code=code,
                worker=failed.worker,
                started_at=failed.started_at,
                finished_at=now,
            )
            connection.execute(_update_job(job_id).values(result=result.model_dump(mode="json")))
            return True

        return await self.run(work)
