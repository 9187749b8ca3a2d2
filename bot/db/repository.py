"""The only way the bot reads and writes jobs: typed records in, typed records out, no ORM rows leak.

Every state change is a conditional UPDATE (compare-and-set) whose first statement takes the write
lock, so concurrent callers (event consumer, reconciler, slash commands) never overwrite a newer
state with an older one, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, Update, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.db.models import ArtifactRow, JobRow, UTCDateTime
from workers.contract import (
    FINISHED_STATUSES,
    ArtifactRef,
    ErrorCode,
    ImageJob,
    JobResult,
    JobStatus,
    Modality,
    MusicJob,
    TextJob,
    parse_job,
    utcnow,
)

ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


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
    def from_row(cls, row: JobRow) -> JobRecord:
        """Build a record from a row whose artifacts are loaded."""
        return cls(
            id=row.id,
            modality=row.modality,  # type: ignore[arg-type]
            status=row.status,
            preset=row.preset,
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            user_id=row.user_id,
            parent_id=row.parent_id,
            job=parse_job(row.payload),
            attempts=row.attempts,
            progress=row.progress,
            progress_message=row.progress_message,
            result=JobResult.model_validate(row.result) if row.result is not None else None,
            error=row.error,
            error_code=ErrorCode(row.error_code) if row.error_code else None,
            worker=row.worker,
            delivery_target=row.delivery_target,
            artifacts=tuple(ArtifactRef.model_validate(a, from_attributes=True) for a in row.artifacts),
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            delivered_at=row.delivered_at,
            cancel_requested_at=row.cancel_requested_at,
            updated_at=row.updated_at,
        )


def _select_jobs() -> Select[JobRow]:
    return select(JobRow).options(selectinload(JobRow.artifacts))


def _is_active() -> ColumnElement[bool]:
    return JobRow.status.in_(ACTIVE_STATUSES)


def _update_job(job_id: str) -> Update:
    """An UPDATE of one job that leaves the session's identity map alone (it holds no jobs)."""
    return update(JobRow).where(JobRow.id == job_id).execution_options(synchronize_session=False)


def _utc(value: datetime) -> ColumnElement[datetime]:
    """A datetime parameter converted like a column value (UTC), for use inside SQL functions."""
    return literal(value, UTCDateTime())


class JobRepository:
    """Jobs in the database, for the bot side (workers never touch it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self, job: MusicJob | ImageJob | TextJob, delivery_target: dict[str, Any] | None = None
    ) -> JobRecord:
        """Store a new job as queued; raise JobAlreadyExistsError if its id is taken."""
        now = utcnow()
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
            "delivery_target": delivery_target,
            "created_at": job.created_at,
            "updated_at": now,
        }
        async with self._sessions() as session:
            try:
                await session.execute(insert(JobRow).values(**values))
                await session.commit()
            except IntegrityError as error:
                raise JobAlreadyExistsError(f"job {job.id} already exists") from error
        return JobRecord.from_row(JobRow(**values, artifacts=[]))  # what was stored, without a re-read

    async def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        async with self._sessions() as session:
            row = (await session.execute(_select_jobs().where(JobRow.id == job_id))).scalar_one_or_none()
            return JobRecord.from_row(row) if row is not None else None

    async def find_by_prefix(self, prefix: str, limit: int = 2) -> list[JobRecord]:
        """Jobs whose id starts with `prefix` (a watermark carries only the first 8 hex digits)."""
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        statement = _select_jobs().where(JobRow.id.startswith(prefix)).order_by(JobRow.id).limit(limit)
        return await self._fetch(statement)

    async def list_for_user(self, user_id: int, limit: int = 10) -> list[JobRecord]:
        """A member's jobs, newest first."""
        statement = (
            _select_jobs()
            .where(JobRow.user_id == user_id)
            .order_by(JobRow.created_at.desc(), JobRow.id.desc())
            .limit(limit)
        )
        return await self._fetch(statement)

    async def list_recent(self, limit: int = 20, status: JobStatus | None = None) -> list[JobRecord]:
        """The newest jobs, optionally only those with `status`."""
        statement = _select_jobs().order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(JobRow.status == status)
        return await self._fetch(statement)

    async def queue_position(self, job_id: str) -> int:
        """1 + the queued jobs of the same modality created before it; 0 if it is not queued."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(JobRow.modality, JobRow.status, JobRow.created_at).where(JobRow.id == job_id)
                )
            ).one_or_none()
            if row is None or row.status != JobStatus.QUEUED:
                return 0
            ahead = await session.scalar(
                select(func.count())
                .select_from(JobRow)
                .where(
                    JobRow.status == JobStatus.QUEUED,
                    JobRow.modality == row.modality,
                    or_(
                        JobRow.created_at < row.created_at,
                        and_(JobRow.created_at == row.created_at, JobRow.id < job_id),
                    ),
                )
            )
            return 1 + int(ahead or 0)

    async def mark_running(self, job_id: str, worker: str, at: datetime, attempt: int) -> bool:
        """A worker started (or restarted) the job; False if it is unknown or already over."""
        statement = (
            _update_job(job_id)
            .where(_is_active())
            .values(
                status=JobStatus.RUNNING,
                worker=worker,
                started_at=at,
                attempts=case((JobRow.attempts < attempt, attempt), else_=JobRow.attempts),
                updated_at=utcnow(),
            )
        )
        return await self._update_one(statement)

    async def record_progress(self, job_id: str, fraction: float, message: str) -> bool:
        """Store how far along an active job is; False if it is unknown or already over."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"progress fraction must be within 0..1, got {fraction}")
        statement = (
            _update_job(job_id)
            .where(_is_active())
            .values(progress=fraction, progress_message=message, updated_at=utcnow())
        )
        return await self._update_one(statement)

    async def record_result(self, result: JobResult) -> bool:
        """Store a worker's result and its artifacts, once; False (nothing changed) if already over."""
        values: dict[str, Any] = {
            "status": JobStatus(result.status),
            "result": result.model_dump(mode="json"),
            "error": result.error,
            "error_code": result.error_code.value if result.error_code else None,
            "finished_at": result.finished_at,
            "updated_at": utcnow(),
        }
        if result.worker is not None:
            values["worker"] = result.worker
        if result.started_at is not None:
            values["started_at"] = func.coalesce(JobRow.started_at, _utc(result.started_at))
        if result.status == JobStatus.SUCCEEDED:
            values["progress"] = 1.0
        statement = _update_job(result.job_id).where(_is_active()).values(**values).returning(JobRow.id)
        async with self._sessions() as session:
            if (await session.execute(statement)).scalar_one_or_none() is None:
                await session.rollback()
                return False
            now = utcnow()
            session.add_all(
                ArtifactRow(job_id=result.job_id, created_at=now, **artifact.model_dump())
                for artifact in result.artifacts
            )
            await session.commit()
            return True

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
            .where(JobRow.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.CANCELLED,
                result=cancelled.model_dump(mode="json"),
                error=cancelled.error,
                error_code=ErrorCode.CANCELLED.value,
                cancel_requested_at=now,
                finished_at=now,
                updated_at=now,
            )
            .returning(JobRow.id)
        )
        ask_worker = (
            _update_job(job_id)
            .where(JobRow.status == JobStatus.RUNNING)
            .values(cancel_requested_at=func.coalesce(JobRow.cancel_requested_at, _utc(now)), updated_at=now)
            .returning(JobRow.id)
        )
        async with self._sessions() as session, session.begin():
            if (await session.execute(cancel_queued)).scalar_one_or_none() is not None:
                return CancelOutcome.CANCELLED
            if (await session.execute(ask_worker)).scalar_one_or_none() is not None:
                return CancelOutcome.REQUESTED
            exists = await session.scalar(select(JobRow.id).where(JobRow.id == job_id))
            return CancelOutcome.ALREADY_FINISHED if exists is not None else CancelOutcome.NOT_FOUND

    async def claim_delivery(self, job_id: str) -> bool:
        """Atomically mark a finished job delivered; True only for the one caller that wins."""
        now = utcnow()
        statement = (
            _update_job(job_id)
            .where(
                JobRow.status.in_(FINISHED_STATUSES),
                JobRow.delivered_at.is_(None),
            )
            .values(status=JobStatus.DELIVERED, delivered_at=now, updated_at=now)
        )
        return await self._update_one(statement)

    async def find_stuck(self, queued_before: datetime, running_before: datetime) -> list[JobRecord]:
        """Jobs queued before `queued_before` that never started, or running since before `running_before`."""
        statement = (
            _select_jobs()
            .where(
                or_(
                    and_(
                        JobRow.status == JobStatus.QUEUED,
                        JobRow.started_at.is_(None),
                        JobRow.created_at < queued_before,
                    ),
                    and_(JobRow.status == JobStatus.RUNNING, JobRow.started_at < running_before),
                )
            )
            .order_by(JobRow.created_at, JobRow.id)
        )
        return await self._fetch(statement)

    async def bump_attempt(self, job_id: str) -> int:
        """Count one more attempt and return the new count; raise JobNotFoundError if unknown."""
        statement = (
            _update_job(job_id)
            .values(attempts=JobRow.attempts + 1, updated_at=utcnow())
            .returning(JobRow.attempts)
        )
        async with self._sessions() as session, session.begin():
            attempts = (await session.execute(statement)).scalar_one_or_none()
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
                status=JobStatus.FAILED,
                error=reason,
                error_code=code.value,
                finished_at=now,
                updated_at=now,
            )
            .returning(JobRow.worker, JobRow.started_at)
        )
        async with self._sessions() as session, session.begin():
            failed = (await session.execute(mark_failed)).one_or_none()
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
            await session.execute(_update_job(job_id).values(result=result.model_dump(mode="json")))
            return True

    async def set_delivery_target(self, job_id: str, target: dict[str, Any] | None) -> bool:
        """Say where the result goes (a Discord interaction, a channel, the CLI); False if unknown."""
        statement = _update_job(job_id).values(delivery_target=target, updated_at=utcnow())
        return await self._update_one(statement)

    async def release_delivery(self, job_id: str, outcome: JobStatus) -> bool:
        """Undo a claim whose delivery failed, so it is retried later; False if it was not claimed."""
        if outcome not in FINISHED_STATUSES:
            raise ValueError(f"a released job goes back to its outcome, not {outcome}")
        statement = (
            _update_job(job_id)
            .where(JobRow.status == JobStatus.DELIVERED)
            .values(status=outcome, delivered_at=None, updated_at=utcnow())
        )
        return await self._update_one(statement)

    async def undelivered_finished(self, limit: int = 50, target_kind: str | None = None) -> list[JobRecord]:
        """Finished jobs not yet delivered, oldest first (only those for `target_kind`, if given)."""
        statement = _select_jobs().where(JobRow.status.in_(FINISHED_STATUSES), JobRow.delivered_at.is_(None))
        if target_kind is not None:
            statement = statement.where(JobRow.delivery_target["kind"].as_string() == target_kind)
        return await self._fetch(statement.order_by(JobRow.finished_at, JobRow.id).limit(limit))

    async def _fetch(self, statement: Select[JobRow]) -> list[JobRecord]:
        async with self._sessions() as session:
            rows: Sequence[JobRow] = (await session.execute(statement)).scalars().all()
            return [JobRecord.from_row(row) for row in rows]

    async def _update_one(self, statement: Update) -> bool:
        """Run a conditional UPDATE of one job; True if it matched."""
        async with self._sessions() as session, session.begin():
            return (await session.execute(statement.returning(JobRow.id))).scalar_one_or_none() is not None
