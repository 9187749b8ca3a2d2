"""Engine set-up and the UTC timestamp type."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.database import AsyncDatabase, open_database
from bot.db.engine import create_engine, make_sessionmaker, upgrade_database
from bot.db.jobs import JobRepository
from bot.db.models import ArtifactRow, JobRow
from bot.db.status import JobStatus
from tests.conftest import _asyncpg_dsn, _empty_database, _run_isolated
from wire.contract import MusicJob


async def test_sqlite_engine_creates_folder_and_enables_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "deeper" / "atelier.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        assert database.parent.is_dir()
        async with engine.connect() as connection:
            journal_mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert journal_mode == "wal"
        assert foreign_keys == 1
        assert database.exists()
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_url(postgres_session_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied afterwards."""
    yield postgres_session_url
    _run_isolated(_empty_database(postgres_session_url))


async def _terminate(url: str, pid: int) -> None:
    """End one server process, as a PostgreSQL restart or a proxy's idle timeout would."""
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_the_bots_postgres_jobs_survive_a_connection_killed_between_units(postgres_url: str) -> None:
    """What the bot runs on (`JobRepository.open` → `open_database`): pooled connections are not
    pinged before each unit; a connection the server ended while it sat in the pool costs no error,
    the unit that finds it dead runs again on a new one."""
    await upgrade_database(postgres_url)
    database = open_database(postgres_url)
    assert isinstance(database, AsyncDatabase)
    jobs = JobRepository(database)
    try:
        job = MusicJob.model_validate({})
        await jobs.create(job)
        pid = await jobs.run(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        await _terminate(postgres_url, pid)
        record = await jobs.get(job.id)  # its pooled connection is the one just ended
        assert record is not None and record.status is JobStatus.QUEUED
        assert database.retried == 1  # found dead by the unit itself and run again, not by a ping
        pid = await jobs.run(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        await _terminate(postgres_url, pid)
        await jobs.request_cancel(job.id)  # a write that finds its connection gone: run again, once
        assert database.retried == 2
        cancelled = await jobs.get(job.id)
        assert cancelled is not None and cancelled.cancel_requested_at is not None
    finally:
        await jobs.close()


def _job_row(job: MusicJob) -> JobRow:
    return JobRow(
        id=job.id,
        modality=job.modality,
        status=JobStatus.QUEUED,
        payload=job.model_dump(mode="json"),
        created_at=job.created_at,
        updated_at=job.created_at,
    )


async def test_timestamps_come_back_aware_and_in_utc(engine: AsyncEngine) -> None:
    paris_summer = timezone(timedelta(hours=2))
    created = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=paris_summer)
    job = MusicJob.model_validate({"created_at": created})
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        session.add(_job_row(job))
        await session.commit()
    async with sessions() as session:
        stored = await session.get(JobRow, job.id)
        assert stored is not None
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at == created
        assert stored.created_at.hour == 12
        assert stored.started_at is None


async def test_naive_timestamps_are_refused(engine: AsyncEngine) -> None:
    job = MusicJob.model_validate({})
    row = _job_row(job)
    row.created_at = datetime(2026, 1, 1, 12, 0)
    async with make_sessionmaker(engine)() as session:
        session.add(row)
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()


async def test_artifact_needs_an_existing_job(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as session:
        session.add(
            ArtifactRow(
                job_id="0" * 32,
                key="k",
                filename="a.mid",
                content_type="audio/midi",
                kind="midi",
                size=1,
                sha256="0" * 64,
                created_at=datetime.now(UTC),
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_status_outside_the_contract_is_refused(engine: AsyncEngine) -> None:
    job = MusicJob.model_validate({})
    async with engine.begin() as connection:
        await connection.execute(
            JobRow.__table__.insert().values(  # type: ignore[attr-defined]
                id=job.id,
                modality="music",
                status="queued",
                payload={},
                created_at=job.created_at,
                updated_at=job.created_at,
            )
        )
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET status = 'lost' WHERE id = :id"), {"id": job.id})
