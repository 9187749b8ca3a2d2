"""Migrations keep the data: the jobs table rebuilt for the `waiting` status (SQLite copies it) keeps
every job and every artifact that refers to one, on the way up and on the way down."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db.engine import create_engine, downgrade_database, upgrade_database

JOB = (
    "INSERT INTO jobs (id, modality, status, payload, attempts, progress, created_at, updated_at) "
    "VALUES (:id, 'text', :status, '{}', 0, 0, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')"
)
ARTIFACT = (
    "INSERT INTO artifacts (job_id, key, filename, content_type, kind, size, sha256, created_at) "
    "VALUES (:job_id, :key, 'f.txt', 'text/plain', 'text', 1, 'x', '2026-01-01 00:00:00+00')"
)


async def _run(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_the_waiting_migration_keeps_jobs_and_their_artifacts(database_url: str) -> None:
    await upgrade_database(database_url, "0003")
    for n in range(3):
        await _run(database_url, JOB, id=f"{n:032x}", status="queued")
        await _run(database_url, ARTIFACT, job_id=f"{n:032x}", key=f"jobs/{n}/f.txt")
    with pytest.raises(IntegrityError):  # before: no such status
        await _run(database_url, JOB, id="f" * 32, status="waiting")

    await upgrade_database(database_url)
    assert (await _run(database_url, "SELECT count(*) FROM artifacts"))[0][0] == 3
    assert (await _run(database_url, "SELECT count(*) FROM jobs"))[0][0] == 3
    await _run(database_url, JOB, id="e" * 32, status="waiting")
    with pytest.raises(IntegrityError):  # the check still holds for anything else
        await _run(database_url, JOB, id="d" * 32, status="lost")

    await downgrade_database(database_url, "0003")
    assert (await _run(database_url, "SELECT status FROM jobs WHERE id = :id", id="e" * 32))[0][0] == "queued"
    assert (await _run(database_url, "SELECT count(*) FROM artifacts"))[0][0] == 3
