"""What the job repository hands out: a read-only record of a stored job, and its small answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Row,
)

from bot.db.models import JobRow
from bot.db.status import ACTIVE_STATUSES, JobStatus
from wire.contract import (
    AnyJob,
    ArtifactRef,
    ErrorCode,
    ImageJob,
    JobResult,
    Modality,
    MusicJob,
    TextJob,
    parse_job,
)

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


@dataclass(frozen=True)
class MemberQuota:
    """A member's limits on one server, checked in the transaction that stores their job."""

    daily_jobs: int
    cooldown_s: int
    concurrent_jobs: int
    queue_cap: int


class LimitReached(Exception):
    """A job not stored because a limit was reached: which one, its value, and when it lifts."""

    def __init__(self, kind: str, limit: int, until: datetime | None = None) -> None:
        super().__init__(f"{kind} limit {limit} reached" + (f" until {until.isoformat()}" if until else ""))
        self.kind = kind
        self.limit = limit
        self.until = until


@dataclass(frozen=True)
class Admitted:
    """A job just stored: its place in line, and the jobs that have room on the broker now
    (`released`: the caller sends them; usually the new job itself, when its queue is not full)."""

    position: int
    released: tuple[AnyJob, ...]


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
    hold: dict[str, Any] | None = None
    """What a delivery gate decided about this finished job (approval mode), or None."""

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
            hold=getattr(row, "hold", None),
        )
