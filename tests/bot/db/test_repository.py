"""JobRepository on SQLite and PostgreSQL: every state change, its guards, and its races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.db.jobs import (
    CancelOutcome,
    JobAlreadyExistsError,
    JobNotFoundError,
    JobRecord,
    JobRepository,
)
from bot.db.models import JobRow
from bot.db.status import JobStatus
from wire.contract import ArtifactRef, ErrorCode, ImageJob, JobResult, MusicJob, TextJob, new_job_id, utcnow

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DISCORD_TARGET = {
    "kind": "discord",
    "application_id": 1234,
    "interaction_token": "secret-interaction-token",
    "channel_id": 42,
}


def music_job(**fields: Any) -> MusicJob:
    return MusicJob.model_validate(fields)


def image_job(**fields: Any) -> ImageJob:
    return ImageJob.model_validate({"options": {"prompt": "a lighthouse at dusk"}, **fields})


def text_job(**fields: Any) -> TextJob:
    return TextJob.model_validate({"options": {"prompt": "a poem about tea", "kind": "poem"}, **fields})


def artifact(key: str, kind: str = "midi") -> ArtifactRef:
    return ArtifactRef(
        key=key, filename=f"{key}.mid", content_type="audio/midi", kind=kind, size=321, sha256="ab" * 32
    )


def succeeded(job_id: str, *artifacts: ArtifactRef, **fields: Any) -> JobResult:
    return JobResult(job_id=job_id, status=JobStatus.SUCCEEDED, artifacts=artifacts, **fields)


async def mark_running(
    repository: JobRepository, job_id: str, worker: str, at: datetime, attempt: int
) -> bool:
    return await repository.run(repository.mark_running_op(job_id, worker, at, attempt))


async def record_progress(repository: JobRepository, job_id: str, fraction: float, message: str) -> bool:
    return await repository.run(repository.record_progress_op(job_id, fraction, message))


async def record_result(repository: JobRepository, result: JobResult) -> JobRecord | None:
    return await repository.run(repository.record_result_op(result))


async def finished_job(repository: JobRepository, **fields: Any) -> JobRecord:
    record = await repository.create(music_job(**fields))
    assert await record_result(repository, succeeded(record.id))
    found = await repository.get(record.id)
    assert found is not None
    return found


async def get(repository: JobRepository, job_id: str) -> JobRecord:
    record = await repository.get(job_id)
    assert record is not None
    return record


# --- create, get, lists ---------------------------------------------------------------------------


async def test_create_stores_a_queued_job_that_reads_back_identical(repository: JobRepository) -> None:
    job = music_job(guild_id=10**17, channel_id=2, user_id=3, preset="atelier-folk", created_at=T0)
    record = await repository.create(job, DISCORD_TARGET)
    assert record == await repository.get(job.id)
    assert record.job == job
    assert record.status is JobStatus.QUEUED
    assert (record.modality, record.preset) == ("music", "atelier-folk")
    assert (record.guild_id, record.channel_id, record.user_id) == (10**17, 2, 3)
    assert record.delivery_target == DISCORD_TARGET
    assert record.attempts == 0
    assert record.progress == 0.0
    assert record.result is None
    assert record.outcome is None
    assert record.artifacts == ()
    assert record.created_at == T0
    assert record.updated_at.tzinfo is not None
    assert record.started_at is record.finished_at is record.delivered_at is None
    assert record.is_active


async def test_every_modality_round_trips(repository: JobRepository) -> None:
    parent = await repository.create(music_job())
    for job in (image_job(parent_id=parent.id), text_job()):
        record = await repository.create(job)
        assert record.job == job
        assert record.modality == job.modality
        assert record.parent_id == job.parent_id
    assert isinstance((await get(repository, parent.id)).job, MusicJob)


async def test_creating_the_same_id_twice_is_refused(repository: JobRepository) -> None:
    job = music_job()
    await repository.create(job)
    with pytest.raises(JobAlreadyExistsError):
        await repository.create(job)


async def test_unknown_job_reads_as_none(repository: JobRepository) -> None:
    assert await repository.get(new_job_id()) is None


async def test_record_hides_the_delivery_target_from_its_repr(repository: JobRepository) -> None:
    record = await repository.create(music_job(), DISCORD_TARGET)
    assert "secret-interaction-token" not in repr(record)
    with pytest.raises(ValueError, match="frozen"):
        record.status = JobStatus.FAILED  # type: ignore[misc]


async def test_list_for_user_is_newest_first_and_only_theirs(repository: JobRepository) -> None:
    for minute in range(4):
        await repository.create(music_job(user_id=7, created_at=T0 + timedelta(minutes=minute)))
    await repository.create(music_job(user_id=8, created_at=T0 + timedelta(minutes=9)))
    records = await repository.list_for_user(7, limit=3)
    assert [r.created_at for r in records] == [T0 + timedelta(minutes=m) for m in (3, 2, 1)]
    assert {r.user_id for r in records} == {7}
    assert await repository.list_for_user(99) == []


async def test_list_recent_filters_by_status(repository: JobRepository) -> None:
    first = await repository.create(music_job(created_at=T0))
    second = await repository.create(text_job(created_at=T0 + timedelta(seconds=1)))
    third = await repository.create(image_job(created_at=T0 + timedelta(seconds=2)))
    assert await mark_running(repository, second.id, "w1", utcnow(), 1)
    assert [r.id for r in await repository.list_recent()] == [third.id, second.id, first.id]
    assert [r.id for r in await repository.list_recent(limit=1)] == [third.id]
    assert [r.id for r in await repository.list_recent(status=JobStatus.QUEUED)] == [third.id, first.id]
    assert [r.id for r in await repository.list_recent(status=JobStatus.RUNNING)] == [second.id]


# --- queue position --------------------------------------------------------------------------------


async def test_queue_position_counts_earlier_queued_jobs_of_the_same_modality(
    repository: JobRepository,
) -> None:
    music = [await repository.create(music_job(created_at=T0 + timedelta(seconds=s))) for s in range(3)]
    image = await repository.create(image_job(created_at=T0 - timedelta(hours=1)))
    assert [await repository.queue_position(r.id) for r in music] == [1, 2, 3]
    assert await repository.queue_position(image.id) == 1

    assert await mark_running(repository, music[0].id, "w1", utcnow(), 1)
    assert await repository.queue_position(music[0].id) == 0
    assert [await repository.queue_position(r.id) for r in music[1:]] == [1, 2]
    assert await repository.queue_position(new_job_id()) == 0


async def test_queue_position_breaks_ties_by_id(repository: JobRepository) -> None:
    ids = sorted(new_job_id() for _ in range(3))
    for job_id in reversed(ids):
        await repository.create(music_job(id=job_id, created_at=T0))
    assert [await repository.queue_position(job_id) for job_id in ids] == [1, 2, 3]


async def test_store_admitted_queues_while_there_is_room_and_ranks_in_one_go(
    repository: JobRepository,
) -> None:
    first, second = music_job(created_at=T0), music_job(created_at=T0 + timedelta(seconds=1))
    first_in = await repository.store_admitted(first, None, capacity=1)
    second_in = await repository.store_admitted(second, {"kind": "cli"}, capacity=1)
    other_in = await repository.store_admitted(image_job(created_at=T0 + timedelta(seconds=2)), None, 1)
    assert (first_in.position, second_in.position, other_in.position) == (1, 2, 1)
    assert [j.id for j in first_in.released] == [first.id]  # room: straight to the broker
    assert second_in.released == ()  # the music queue is full: it waits in the database
    assert len(other_in.released) == 1  # another modality's queue has its own room
    stored = await get(repository, second.id)
    assert (stored.job, stored.status, stored.delivery_target) == (second, JobStatus.WAITING, {"kind": "cli"})
    assert (await get(repository, first.id)).status is JobStatus.QUEUED
    with pytest.raises(JobAlreadyExistsError):
        await repository.store_admitted(music_job(id=first.id), None, 1)


# --- running and progress -------------------------------------------------------------------------


async def test_mark_running_moves_queued_to_running_and_follows_retries(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await mark_running(repository, record.id, "gpu-1", T0, attempt=1)
    running = await get(repository, record.id)
    assert running.status is JobStatus.RUNNING
    assert (running.worker, running.started_at, running.attempts) == ("gpu-1", T0, 1)
    assert running.updated_at > record.updated_at

    later = T0 + timedelta(minutes=5)
    assert await mark_running(repository, record.id, "gpu-2", later, attempt=2)
    retried = await get(repository, record.id)
    assert (retried.worker, retried.started_at, retried.attempts) == ("gpu-2", later, 2)

    assert await mark_running(repository, record.id, "gpu-3", later, attempt=1)
    assert (await get(repository, record.id)).attempts == 2


async def test_mark_running_leaves_finished_and_unknown_jobs_alone(repository: JobRepository) -> None:
    done = await finished_job(repository)
    assert not await mark_running(repository, done.id, "late-worker", utcnow(), 1)
    assert await get(repository, done.id) == done
    assert not await mark_running(repository, new_job_id(), "w", utcnow(), 1)


async def test_progress_is_recorded_only_while_active(repository: JobRepository) -> None:
    record = await repository.create(text_job())
    assert await mark_running(repository, record.id, "cpu-1", utcnow(), 1)
    assert await record_progress(repository, record.id, 0.25, "token 40 of 160")
    running = await get(repository, record.id)
    assert (running.progress, running.progress_message) == (0.25, "token 40 of 160")

    assert await repository.fail(record.id, ErrorCode.TIMEOUT, "took too long")
    assert not await record_progress(repository, record.id, 0.5, "too late")
    assert (await get(repository, record.id)).progress == 0.25
    assert not await record_progress(repository, new_job_id(), 0.5, "nobody")


async def test_progress_outside_zero_to_one_is_refused(repository: JobRepository) -> None:
    record = await repository.create(text_job())
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        await record_progress(repository, record.id, 1.5, "")


# --- results -----------------------------------------------------------------------------------------


async def test_result_is_stored_with_its_artifacts_in_order(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    started = T0 - timedelta(seconds=30)
    assert await mark_running(repository, record.id, "gpu-1", started, 1)
    result = succeeded(
        record.id,
        artifact("tune", "midi"),
        artifact("audio", "audio"),
        artifact("roll", "piano_roll"),
        metadata={"bars": 16, "key": "D"},
        text="X:1\nK:D\n",
        worker="gpu-1",
        started_at=started,
        finished_at=T0,
    )
    assert await record_result(repository, result)
    done = await get(repository, record.id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.outcome is JobStatus.SUCCEEDED
    assert done.result == result
    assert done.artifacts == result.artifacts
    assert (done.finished_at, done.started_at, done.worker) == (T0, started, "gpu-1")
    assert done.progress == 1.0
    assert (done.error, done.error_code) == (None, None)
    assert not done.is_active


async def test_a_result_is_recorded_once(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    first = succeeded(record.id, artifact("one"), finished_at=T0)
    assert await record_result(repository, first)
    stored = await get(repository, record.id)

    duplicate = JobResult(
        job_id=record.id, status=JobStatus.FAILED, error="boom", error_code=ErrorCode.INTERNAL
    )
    assert not await record_result(repository, duplicate)
    assert not await record_result(repository, succeeded(record.id, artifact("two")))
    assert await get(repository, record.id) == stored


async def test_failed_result_keeps_error_and_code(repository: JobRepository) -> None:
    record = await repository.create(image_job())
    result = JobResult(
        job_id=record.id,
        status=JobStatus.FAILED,
        error="The image model is not installed.",
        error_code=ErrorCode.MODEL_MISSING,
        worker="gpu-2",
    )
    assert await record_result(repository, result)
    failed = await get(repository, record.id)
    assert failed.status is JobStatus.FAILED
    assert (failed.error, failed.error_code, failed.worker) == (
        "The image model is not installed.",
        ErrorCode.MODEL_MISSING,
        "gpu-2",
    )
    assert failed.progress == 0.0
    assert failed.started_at is None


async def test_result_for_an_unknown_job_is_ignored(repository: JobRepository) -> None:
    assert not await record_result(repository, succeeded(new_job_id(), artifact("x")))


async def test_concurrent_duplicate_results_store_artifacts_once(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    result = succeeded(record.id, artifact("a"), artifact("b"))
    outcomes = await asyncio.gather(*(record_result(repository, result) for _ in range(8)))
    assert sorted(outcome is not None for outcome in outcomes) == [False] * 7 + [True]
    assert (await get(repository, record.id)).artifacts == result.artifacts


async def test_record_result_returns_the_finished_job_as_stored(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await mark_running(repository, record.id, "gpu-1", T0, 1)
    returned = await record_result(repository, succeeded(record.id, artifact("a"), worker="gpu-1"))
    assert returned is not None and returned.status is JobStatus.SUCCEEDED
    assert returned == await get(repository, record.id)


async def test_writes_in_one_transaction_commit_together_or_not_at_all(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    running, progressed, finished = await repository.run_all(
        [
            repository.mark_running_op(record.id, "gpu-1", T0, 1),
            repository.record_progress_op(record.id, 0.5, "half"),
            repository.record_result_op(succeeded(record.id, artifact("a"))),
        ]
    )
    assert running and progressed and finished is not None
    stored = await get(repository, record.id)
    assert (stored.status, stored.worker, len(stored.artifacts)) == (JobStatus.SUCCEEDED, "gpu-1", 1)

    other = await repository.create(music_job())

    def fail_half_way(connection: object) -> None:
        raise RuntimeError("the batch failed half-way")

    with pytest.raises(RuntimeError):
        await repository.run_all([repository.mark_running_op(other.id, "gpu-2", T0, 1), fail_half_way])
    assert (await get(repository, other.id)).status is JobStatus.QUEUED


async def test_a_result_counts_the_attempt_of_the_started_event_folded_into_it(
    repository: JobRepository,
) -> None:
    record = await repository.create(music_job())
    finished = await repository.run(
        repository.record_result_op(succeeded(record.id, worker="gpu-1", started_at=T0), attempt=3)
    )
    assert finished is not None
    assert (finished.attempts, finished.worker, finished.started_at) == (3, "gpu-1", T0)

    retried = await repository.create(music_job())
    assert await mark_running(repository, retried.id, "gpu-1", T0, 4)
    late = await repository.run(repository.record_result_op(succeeded(retried.id), attempt=2))
    assert late is not None and late.attempts == 4  # a late event never lowers the count


# --- cancel ------------------------------------------------------------------------------------------


async def test_cancelling_a_queued_job_finishes_it_at_once(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await repository.request_cancel(record.id) is CancelOutcome.CANCELLED
    cancelled = await get(repository, record.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.result is not None
    assert cancelled.result.status == JobStatus.CANCELLED
    assert cancelled.result.error_code is ErrorCode.CANCELLED
    assert cancelled.error_code is ErrorCode.CANCELLED
    assert cancelled.finished_at is not None
    assert cancelled.cancel_requested_at is not None
    assert await repository.queue_position(record.id) == 0

    assert not await mark_running(repository, record.id, "w", utcnow(), 1)
    assert not await record_result(repository, succeeded(record.id, artifact("late")))
    assert await repository.request_cancel(record.id) is CancelOutcome.ALREADY_FINISHED


async def test_cancelling_a_running_job_asks_the_worker(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await mark_running(repository, record.id, "gpu-1", utcnow(), 1)
    assert await repository.request_cancel(record.id) is CancelOutcome.REQUESTED
    requested = await get(repository, record.id)
    assert requested.status is JobStatus.RUNNING
    assert requested.cancel_requested_at is not None

    assert await repository.request_cancel(record.id) is CancelOutcome.REQUESTED
    assert (await get(repository, record.id)).cancel_requested_at == requested.cancel_requested_at

    stopped = JobResult(job_id=record.id, status=JobStatus.CANCELLED, error_code=ErrorCode.CANCELLED)
    assert await record_result(repository, stopped)
    assert (await get(repository, record.id)).status is JobStatus.CANCELLED


async def test_cancelling_finished_or_unknown_jobs(repository: JobRepository) -> None:
    done = await finished_job(repository)
    assert await repository.request_cancel(done.id) is CancelOutcome.ALREADY_FINISHED
    assert await get(repository, done.id) == done
    assert await repository.request_cancel(new_job_id()) is CancelOutcome.NOT_FOUND


# --- delivery ----------------------------------------------------------------------------------------


async def test_mark_delivered_wins_once_and_keeps_the_outcome(repository: JobRepository) -> None:
    active = await repository.create(music_job())
    assert not await repository.mark_delivered(active.id)
    done = await finished_job(repository)
    assert await repository.mark_delivered(done.id)
    delivered = await get(repository, done.id)
    assert delivered.status is JobStatus.DELIVERED
    assert delivered.delivered_at is not None
    assert delivered.outcome is JobStatus.SUCCEEDED
    assert not await repository.mark_delivered(done.id)
    assert not await repository.mark_delivered(new_job_id())


async def test_twenty_concurrent_claims_have_exactly_one_winner(
    repository: JobRepository, database_url: str
) -> None:
    """Two repositories (say the bot and the CLI) race to deliver the same jobs; one claim wins each."""
    other = JobRepository.open(database_url)
    try:
        for _ in range(3):
            done = await finished_job(repository)
            claims = [(repository if n % 2 else other).mark_delivered(done.id) for n in range(20)]
            outcomes = await asyncio.gather(*claims)
            assert outcomes.count(True) == 1
            assert outcomes.count(False) == 19
    finally:
        await other.close()


async def test_undelivered_finished_lists_what_the_bot_must_still_deliver(
    repository: JobRepository,
) -> None:
    await repository.create(music_job())
    ids = []
    for minute in (3, 1, 2):
        record = await repository.create(music_job())
        assert await record_result(
            repository, succeeded(record.id, finished_at=T0 + timedelta(minutes=minute))
        )
        ids.append((minute, record.id))
    cancelled = await repository.create(text_job())
    assert await repository.request_cancel(cancelled.id) is CancelOutcome.CANCELLED
    delivered = await finished_job(repository)
    assert await repository.mark_delivered(delivered.id)

    by_finish = [job_id for _, job_id in sorted(ids)]
    pending = await repository.undelivered_finished(limit=10)
    assert [r.id for r in pending] == [*by_finish, cancelled.id]
    assert [r.id for r in await repository.undelivered_finished(limit=2)] == by_finish[:2]


async def test_undelivered_finished_can_keep_to_one_kind_of_target(repository: JobRepository) -> None:
    discord_job = await repository.create(text_job(), {"kind": "discord", "channel_id": 5})
    cli_job = await repository.create(text_job(), {"kind": "cli"})
    bare_job = await repository.create(text_job())
    for record in (discord_job, cli_job, bare_job):
        assert await record_result(repository, succeeded(record.id))
    assert [r.id for r in await repository.undelivered_finished(target_kind="discord")] == [discord_job.id]
    assert len(await repository.undelivered_finished()) == 3


async def test_find_by_prefix_matches_the_start_of_ids_only(repository: JobRepository) -> None:
    first = await repository.create(text_job(id="abcdef01" + "0" * 24))
    await repository.create(text_job(id="abcdef02" + "0" * 24))
    assert [r.id for r in await repository.find_by_prefix("abcdef01")] == [first.id]
    assert len(await repository.find_by_prefix("abcdef")) == 2
    assert await repository.find_by_prefix("bcdef0") == []
    assert await repository.find_by_prefix("ABCDEF") == []  # not hex as stored
    assert await repository.find_by_prefix("%") == []


async def test_delivery_target_can_be_set_and_cleared(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await repository.set_delivery_target(record.id, {"kind": "cli"})
    assert (await get(repository, record.id)).delivery_target == {"kind": "cli"}
    assert await repository.set_delivery_target(record.id, None)
    assert (await get(repository, record.id)).delivery_target is None
    assert not await repository.set_delivery_target(new_job_id(), {"kind": "cli"})


# --- reconciliation ----------------------------------------------------------------------------------


async def _released_at(repository: JobRepository, job_id: str, when: datetime) -> None:
    """Pretend a queued job was put on the broker at `when` (its last update)."""
    jobs = JobRow.__table__
    await repository.run(lambda c: c.execute(update(jobs).where(jobs.c.id == job_id).values(updated_at=when)))


async def test_find_stuck_returns_long_queued_and_long_running_jobs_but_not_waiting_ones(
    repository: JobRepository,
) -> None:
    old_queued = await repository.create(music_job(created_at=T0 - timedelta(minutes=10)))
    await _released_at(repository, old_queued.id, T0 - timedelta(minutes=10))
    just_released = await repository.create(music_job(created_at=T0 - timedelta(hours=3)))
    await _released_at(repository, just_released.id, T0 - timedelta(seconds=30))  # waited, then released
    waiting = await repository.store_admitted(music_job(created_at=T0 - timedelta(hours=4)), None, capacity=0)
    assert waiting.released == ()
    long_running = await repository.create(text_job(created_at=T0 - timedelta(hours=1)))
    assert await mark_running(repository, long_running.id, "w1", T0 - timedelta(minutes=30), 1)
    recent_running = await repository.create(text_job(created_at=T0 - timedelta(hours=1)))
    assert await mark_running(repository, recent_running.id, "w2", T0 - timedelta(minutes=1), 1)
    old_done = await repository.create(image_job(created_at=T0 - timedelta(hours=2)))
    assert await record_result(repository, succeeded(old_done.id))

    stuck = await repository.find_stuck(
        queued_before=T0 - timedelta(minutes=2), running_before=T0 - timedelta(minutes=5)
    )
    assert [r.id for r in stuck] == [long_running.id, old_queued.id]


async def test_bump_attempt_counts_up(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await repository.bump_attempt(record.id) == 1
    assert await repository.bump_attempt(record.id) == 2
    assert (await get(repository, record.id)).attempts == 2
    with pytest.raises(JobNotFoundError):
        await repository.bump_attempt(new_job_id())


async def test_fail_finishes_an_active_job_with_a_result(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    assert await mark_running(repository, record.id, "gpu-1", T0, 1)
    assert await repository.fail(record.id, ErrorCode.WORKER_LOST, "The worker went away.")
    failed = await get(repository, record.id)
    assert failed.status is JobStatus.FAILED
    assert (failed.error, failed.error_code) == ("The worker went away.", ErrorCode.WORKER_LOST)
    assert failed.result is not None
    assert failed.result.status == JobStatus.FAILED
    assert failed.result.error_code is ErrorCode.WORKER_LOST
    assert (failed.result.worker, failed.result.started_at) == ("gpu-1", T0)
    assert failed.finished_at == failed.result.finished_at

    assert not await repository.fail(record.id, ErrorCode.INTERNAL, "again")
    assert await get(repository, record.id) == failed
    assert not await repository.fail(new_job_id(), ErrorCode.INTERNAL, "nobody")


async def test_a_relaxed_commit_still_commits(repository: JobRepository) -> None:
    record = await repository.create(music_job())
    await repository.run_all(
        [repository.relaxed_commit_op, repository.mark_running_op(record.id, "gpu-1", T0, 1)]
    )
    assert (await get(repository, record.id)).status is JobStatus.RUNNING


async def test_a_delivery_lease_holds_once_and_lapses_if_the_sender_dies(repository: JobRepository) -> None:
    done = await finished_job(repository)
    assert await repository.begin_delivery(done.id)
    assert not await repository.begin_delivery(done.id)  # another process is sending it
    assert done.id not in [r.id for r in await repository.undelivered_finished()]

    # The sender died without finishing: once the lease has run out the job is undelivered again.
    assert done.id in [r.id for r in await repository.undelivered_finished(lease_s=0)]
    assert await repository.begin_delivery(done.id, lease_s=0)
    assert await repository.finish_delivery(done.id)
    delivered = await get(repository, done.id)
    assert delivered.status is JobStatus.DELIVERED and delivered.delivered_at is not None
    assert delivered.outcome is JobStatus.SUCCEEDED
    assert not await repository.begin_delivery(done.id, lease_s=0)
    assert not await repository.finish_delivery(done.id)


async def test_an_abandoned_delivery_is_retried_at_once(repository: JobRepository) -> None:
    done = await finished_job(repository)
    assert not await repository.finish_delivery(done.id)  # not claimed
    assert await repository.begin_delivery(done.id)
    assert await repository.abandon_delivery(done.id)
    assert [r.id for r in await repository.undelivered_finished()] == [done.id]
    assert await repository.begin_delivery(done.id)
