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

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from bot.db.database import Database, open_database
from bot.db.jobs.record import (
    DELIVERY_LEASE_S,
    Admitted,
    CancelOutcome,
    JobAlreadyExistsError,
    JobNotFoundError,
    JobRecord,
    MemberQuota,
)
from bot.db.jobs.statements import (
    ARTIFACTS,
    INSERT_ARTIFACTS,
    INSERT_JOB,
    JOBS,
    MARK_DELIVERED,
    MARK_RUNNING,
    RECORD_PROGRESS,
    RELAXED_COMMIT,
    Op,
    T,
    check_quota,
    fair_key,
    fetch_records,
    finished_undelivered,
    is_active,
    not_being_sent,
    position_in_line,
    queue_state,
    record_result_statement,
    release_waiting,
    status_in,
    update_job,
    update_one,
    update_prebuilt,
    utc_value,
)
from bot.db.status import ACTIVE_STATUSES, PENDING_STATUSES, JobStatus
from wire.contract import (
    AnyJob,
    ArtifactRef,
    ErrorCode,
    ImageJob,
    JobResult,
    MusicJob,
    Outcome,
    TextJob,
    utcnow,
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
            connection.execute(RELAXED_COMMIT)

    # --- create ---------------------------------------------------------------------------------

    async def create(self, job: AnyJob, delivery_target: dict[str, Any] | None = None) -> JobRecord:
        """Store a new job as queued, past admission (tools and tests that put jobs straight on the
        broker); raise JobAlreadyExistsError if its id is taken."""
        values = _new_row(job, delivery_target, JobStatus.QUEUED)
        await self._insert(values, lambda connection: None)
        return JobRecord.from_row(SimpleNamespace(**values), (), job=job)  # as stored, no re-read

    async def store_admitted(
        self,
        job: AnyJob,
        delivery_target: dict[str, Any] | None,
        capacity: int,
        quota: MemberQuota | None = None,
        weight: float = 1.0,
    ) -> Admitted:
        """Store a job that passed admission, in one transaction with its release: straight to queued
        when its modality has room and nobody waits, else waiting (and the oldest waiting jobs are
        released while there is room). Returns its place in line and the jobs to send now.

        With a `quota`, the member's limits on the job's server are checked in the same transaction
        (race-free: concurrent submissions of one member are ordered); LimitReached if one is reached.
        `weight` is the server's share when jobs wait (bot/db/jobs/statements.py `fair_key`).
        """

        def work(connection: Connection) -> Admitted:
            if quota is not None:
                check_quota(connection, job, quota, utcnow())
            in_flight, backlog = queue_state(connection, job.modality)
            direct = in_flight < capacity and not backlog
            status = JobStatus.QUEUED if direct else JobStatus.WAITING
            key = None if direct else fair_key(connection, job, weight)
            INSERT_JOB.rows(connection, _insert_params(_new_row(job, delivery_target, status, key)))
            released = [job] if direct else release_waiting(connection, job.modality, capacity, utcnow())
            now_status = JobStatus.QUEUED if any(j.id == job.id for j in released) else status
            position = position_in_line(connection, job.id, job.modality, job.created_at, now_status, key)
            return Admitted(position, tuple(released))

        return await self._insert(None, work)

    def release_op(self, modality: str, capacity: int) -> Op[list[AnyJob]]:
        """Release the oldest waiting jobs of a modality while it has room; the jobs to send."""
        return lambda connection: release_waiting(connection, modality, capacity, utcnow())

    async def _insert(self, values: dict[str, Any] | None, then: Op[T]) -> T:
        def work(connection: Connection) -> T:
            if values is not None:
                INSERT_JOB.rows(connection, _insert_params(values))
            return then(connection)

        try:
            return await self.run(work)
        except IntegrityError as error:
            raise JobAlreadyExistsError("a job with this id already exists") from error

    # --- reads ----------------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        found = await self._select(select(JOBS).where(JOBS.c.id == job_id))
        return found[0] if found else None

    async def find_by_prefix(self, prefix: str, limit: int = 2) -> list[JobRecord]:
        """Jobs whose id starts with `prefix` (a watermark carries only the first 8 hex digits)."""
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        return await self._select(
            select(JOBS).where(JOBS.c.id.startswith(prefix)).order_by(JOBS.c.id).limit(limit)
        )

    async def list_for_user(
        self, user_id: int, limit: int = 10, guild_id: int | None = None
    ) -> list[JobRecord]:
        """A member's jobs, newest first (only those of one server, with `guild_id`)."""
        statement = select(JOBS).where(JOBS.c.user_id == user_id)
        if guild_id is not None:
            statement = statement.where(JOBS.c.guild_id == guild_id)
        statement = statement.order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc()).limit(limit)
        return await self._select(statement)

    async def list_recent(self, limit: int = 20, status: JobStatus | None = None) -> list[JobRecord]:
        """The newest jobs, optionally only those with `status`."""
        statement = select(JOBS).order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(JOBS.c.status == status)
        return await self._select(statement)

    async def queue_position(self, job_id: str) -> int:
        """1 + the jobs that will start before it (see `position_in_line`); 0 if it is not pending."""

        def work(connection: Connection) -> int:
            row = connection.execute(
                select(JOBS.c.modality, JOBS.c.status, JOBS.c.created_at, JOBS.c.fair_key).where(
                    JOBS.c.id == job_id
                )
            ).one_or_none()
            if row is None or row.status not in PENDING_STATUSES:
                return 0
            return position_in_line(
                connection, job_id, row.modality, row.created_at, row.status, row.fair_key
            )

        return await self.run(work)

    async def find_stuck(self, queued_before: datetime, running_before: datetime) -> list[JobRecord]:
        """Jobs released to the broker before `queued_before` that never started, or running since
        before `running_before`. (Waiting jobs are not stuck: they wait for room by design.)"""
        statement = (
            select(JOBS)
            .where(
                or_(
                    and_(  # released to the broker (updated_at) that long ago, and never started
                        JOBS.c.status == JobStatus.QUEUED,
                        JOBS.c.started_at.is_(None),
                        JOBS.c.updated_at < queued_before,
                    ),
                    and_(JOBS.c.status == JobStatus.RUNNING, JOBS.c.started_at < running_before),
                )
            )
            .order_by(JOBS.c.created_at, JOBS.c.id)
        )
        return await self._select(statement)

    async def undelivered_finished(
        self, limit: int = 50, target_kind: str | None = None, lease_s: float = DELIVERY_LEASE_S
    ) -> list[JobRecord]:
        """Finished jobs not yet delivered and not being sent, oldest first (only for `target_kind`, if given).

        A job whose delivery claim is older than `lease_s` counts as not being sent: its sender died.
        """
        statement = select(JOBS).where(finished_undelivered(), not_being_sent(utcnow(), lease_s))
        if target_kind is not None:
            statement = statement.where(JOBS.c.delivery_target["kind"].as_string() == target_kind)
        return await self._select(statement.order_by(JOBS.c.finished_at, JOBS.c.id).limit(limit))

    async def active_counts(self) -> list[tuple[str, int | None, str, int]]:
        """(modality, guild id, status, jobs) for each group of waiting, queued or running jobs."""
        statement = (
            select(JOBS.c.modality, JOBS.c.guild_id, JOBS.c.status, func.count())
            .where(status_in(ACTIVE_STATUSES))
            .group_by(JOBS.c.modality, JOBS.c.guild_id, JOBS.c.status)
        )
        rows = await self.run(lambda connection: connection.execute(statement).all())
        return [(str(m), g, str(s), int(n)) for m, g, s, n in rows]

    async def _select(self, statement: Select[Any]) -> list[JobRecord]:
        return await self.run(lambda connection: fetch_records(connection, statement))

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
        return update_prebuilt(MARK_RUNNING, params)

    def record_progress_op(self, job_id: str, fraction: float, message: str) -> Op[bool]:
        """Store how far along an active job is; False if it is unknown or already over."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"progress fraction must be within 0..1, got {fraction}")
        params = {"job_id": job_id, "p_progress": fraction, "p_message": message, "p_now": utcnow()}
        return update_prebuilt(RECORD_PROGRESS, params)

    def record_result_op(
        self, result: JobResult, attempt: int | None = None, job: MusicJob | ImageJob | TextJob | None = None
    ) -> Op[JobRecord | None]:
        """Store a worker's result and its artifacts, once; the finished job, or None if it was over.

        `attempt`, from the job's started event when both arrive together, is counted as that event
        would have counted it (so the started event need not be written first). `job`, when the
        caller still holds the job it submitted, is not read back and parsed from the database.
        """
        statement = record_result_statement(
            result.worker is not None,
            result.started_at is not None,
            result.status is Outcome.SUCCEEDED,
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
                    INSERT_ARTIFACTS,
                    [
                        {"job_id": result.job_id, "created_at": now, **a.model_dump()}
                        for a in result.artifacts
                    ],
                )
            return JobRecord.from_row(row, result.artifacts, job=job, result=result)

        return work

    # --- cancel, delivery, the reconciler -------------------------------------------------------

    async def request_cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a waiting or queued job at once, or ask the worker to stop a running one."""
        now = utcnow()
        cancelled = JobResult(
            job_id=job_id,
            status=Outcome.CANCELLED,
            error="cancelled before it started",
            error_code=ErrorCode.CANCELLED,
            finished_at=now,
        )
        cancel_queued = (
            update_job(job_id)
            .where(status_in(PENDING_STATUSES))
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
            update_job(job_id)
            .where(JOBS.c.status == JobStatus.RUNNING)
            .values(
                cancel_requested_at=func.coalesce(JOBS.c.cancel_requested_at, utc_value(now)), updated_at=now
            )
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

    async def mark_delivered(self, job_id: str) -> bool:
        """Mark a finished job delivered in one step, for targets the bot does not send to (the CLI,
        which has shown the result itself); True only for the one caller that wins. Discord results
        go through the lease instead: `begin_delivery`, then `finish_delivery` or `abandon_delivery`."""
        return await self.run(update_prebuilt(MARK_DELIVERED, {"job_id": job_id, "p_now": utcnow()}))

    async def begin_delivery(self, job_id: str, lease_s: float = DELIVERY_LEASE_S) -> bool:
        """Claim a finished, undelivered job for sending; True only for the one caller that wins.

        The claim is a lease: if this process dies before `finish_delivery` or `abandon_delivery`,
        the job is undelivered again once `lease_s` has passed, and another attempt sends it.
        """
        now = utcnow()
        statement = (
            update_job(job_id)
            .where(finished_undelivered(), not_being_sent(now, lease_s))
            .values(delivery_claimed_at=now, updated_at=now)
        )
        return await self.run(update_one(statement))

    async def finish_delivery(self, job_id: str) -> bool:
        """The claimed job's result was sent: mark it delivered; False if it was not claimed."""
        now = utcnow()
        statement = (
            update_job(job_id)
            .where(finished_undelivered(), JOBS.c.delivery_claimed_at.is_not(None))
            .values(status=JobStatus.DELIVERED, delivered_at=now, delivery_claimed_at=None, updated_at=now)
        )
        return await self.run(update_one(statement))

    async def abandon_delivery(self, job_id: str) -> bool:
        """Sending failed: drop the claim so the job is retried at once; False if it was not claimed."""
        statement = (
            update_job(job_id)
            .where(JOBS.c.delivered_at.is_(None), JOBS.c.delivery_claimed_at.is_not(None))
            .values(delivery_claimed_at=None, updated_at=utcnow())
        )
        return await self.run(update_one(statement))

    async def end_delivery(self, job_id: str, why: dict[str, Any]) -> bool:
        """The claimed job can never reach Discord (its channel is gone or closed to the bot): end its
        delivery, keeping its outcome as status and `why` under `delivery_target["undeliverable"]`."""
        now = utcnow()

        def work(connection: Connection) -> bool:
            target = connection.execute(
                select(JOBS.c.delivery_target).where(JOBS.c.id == job_id)
            ).scalar_one_or_none()
            statement = (
                update_job(job_id)
                .where(finished_undelivered(), JOBS.c.delivery_claimed_at.is_not(None))
                .values(
                    delivery_target={**(target or {}), "undeliverable": why},
                    delivered_at=now,
                    delivery_claimed_at=None,
                    updated_at=now,
                )
            )
            return bool(connection.execute(statement).rowcount == 1)

        return await self.run(work)

    async def forget_artifacts(self, job_id: str) -> list[ArtifactRef]:
        """Drop a job's artifact rows (its result was deleted); the ones dropped, for the caller to
        remove their files from the store."""

        def work(connection: Connection) -> list[ArtifactRef]:
            rows = connection.execute(
                ARTIFACTS.delete().where(ARTIFACTS.c.job_id == job_id).returning(*ARTIFACTS.c)
            ).all()
            return [ArtifactRef.model_validate(row, from_attributes=True) for row in rows]

        return await self.run(work)

    async def hold(self, job_id: str, info: dict[str, Any]) -> bool:
        """Keep a claimed, finished job back (status `held`) with what the gate recorded; its
        delivery claim is dropped. False if it was not finished, undelivered and claimed."""
        now = utcnow()
        statement = (
            update_job(job_id)
            .where(finished_undelivered(), JOBS.c.delivery_claimed_at.is_not(None))
            .values(status=JobStatus.HELD, hold=info, delivery_claimed_at=None, updated_at=now)
        )
        return await self.run(update_one(statement))

    async def decide_hold(self, job_id: str, decision: str, by: int | None) -> JobRecord | None:
        """Record a moderator's decision on a held job and make it deliverable again (back to its
        outcome); the first decision wins, a later one returns None."""
        now = utcnow()

        def work(connection: Connection) -> JobRecord | None:
            row = connection.execute(
                select(JOBS.c.result, JOBS.c.hold).where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.HELD)
            ).one_or_none()
            if row is None or row.result is None:
                return None
            outcome = JobStatus(JobResult.model_validate(row.result).status)
            decided = {**(row.hold or {}), "decision": decision, "by": by, "at": now.isoformat()}
            changed = connection.execute(
                update_job(job_id)
                .where(JOBS.c.status == JobStatus.HELD)
                .values(status=outcome, hold=decided, updated_at=now)
                .returning(JOBS.c.id)
            ).scalar_one_or_none()
            if changed is None:
                return None
            return fetch_records(connection, select(JOBS).where(JOBS.c.id == job_id))[0]

        return await self.run(work)

    async def set_delivery_target(self, job_id: str, target: dict[str, Any] | None) -> bool:
        """Say where the result goes (a Discord interaction, a channel, the CLI); False if unknown."""
        return await self.run(
            update_one(update_job(job_id).values(delivery_target=target, updated_at=utcnow()))
        )

    async def bump_attempt(self, job_id: str) -> int:
        """Count one more attempt and return the new count; raise JobNotFoundError if unknown."""
        statement = (
            update_job(job_id)
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
            update_job(job_id)
            .where(is_active())
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
                status=Outcome.FAILED,
                error=reason,
                error_code=code,
                worker=failed.worker,
                started_at=failed.started_at,
                finished_at=now,
            )
            connection.execute(update_job(job_id).values(result=result.model_dump(mode="json")))
            return True

        return await self.run(work)


def _new_row(
    job: AnyJob, delivery_target: dict[str, Any] | None, status: JobStatus, fair_key: float | None = None
) -> dict[str, Any]:
    """Every column of a new job's row."""
    return {
        "id": job.id,
        "modality": job.modality,
        "status": status,
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
        "fair_key": fair_key,
        "hold": None,
    }


def _insert_params(values: dict[str, Any]) -> dict[str, Any]:
    return {f"p_{name}": value for name, value in values.items()}
