"""Admission: checks before anything is stored; jobs wait in the database while their modality's
queue is full and are released oldest first as jobs finish, in the same transaction; the broker
queue never holds more than the capacity; a waiting job cancels at once and is never sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.db.jobs import CancelOutcome, JobRepository
from bot.db.status import JobStatus
from bot.pipeline.admission import Refused
from bot.runtime import Runtime, open_runtime
from config.settings import AdmissionSettings, Settings
from wire import keys
from wire.contract import AnyJob, JobResult, MusicJob, Outcome, ResultEvent, TextJob, utcnow
from wire.routing import queue_for


def text_job(n: int, **fields: object) -> TextJob:
    return TextJob(options={"prompt": f"job {n}"}, **fields)  # type: ignore[arg-type]


def finished(job: AnyJob) -> ResultEvent:
    return ResultEvent(result=JobResult(job_id=job.id, status=Outcome.SUCCEEDED, text="done", worker="w"))


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[JobRepository]:
    from bot.db.engine import upgrade_database

    await upgrade_database(database_url)
    repository = JobRepository.open(database_url)
    yield repository
    await repository.close()


@pytest.fixture
async def small_runtime(pipeline_settings: Settings) -> AsyncIterator[Runtime]:
    """A bot-side runtime whose text queue has room for two jobs (no worker: nothing runs)."""
    settings = pipeline_settings.model_copy(update={"admission": AdmissionSettings(queue_capacity=2)})
    async with open_runtime(settings) as rt:
        yield rt


async def broker_length(rt: Runtime, modality: str = "text") -> int:
    return int(await rt.redis.llen(queue_for(modality)))


async def test_jobs_beyond_the_capacity_wait_and_are_released_oldest_first(repository: JobRepository) -> None:
    start = utcnow()
    jobs = [text_job(n, created_at=start + timedelta(seconds=n)) for n in range(5)]
    admitted = [await repository.store_admitted(job, None, capacity=2) for job in jobs]
    assert [a.position for a in admitted] == [1, 2, 3, 4, 5]  # the place in line counts waiting jobs too
    assert [[j.id for j in a.released] for a in admitted] == [[jobs[0].id], [jobs[1].id], [], [], []]
    statuses = [(await repository.get(job.id)).status for job in jobs]  # type: ignore[union-attr]
    assert statuses == [JobStatus.QUEUED] * 2 + [JobStatus.WAITING] * 3

    assert await repository.run(repository.release_op("text", 2)) == []  # no room yet
    assert await repository.run(repository.record_result_op(finished(jobs[1]).result))
    released = await repository.run(repository.release_op("text", 2))
    assert [j.id for j in released] == [jobs[2].id]  # the oldest waiting one
    assert await repository.run(repository.release_op("text", 2)) == []
    assert await repository.run(repository.release_op("text", 4)) == [jobs[3], jobs[4]]
    assert await repository.queue_position(jobs[4].id) == 4  # behind jobs 0, 2 and 3, none started


async def test_each_modality_has_its_own_room(repository: JobRepository) -> None:
    full = [await repository.store_admitted(text_job(n), None, capacity=1) for n in range(2)]
    music = await repository.store_admitted(MusicJob(), None, capacity=1)
    assert [len(a.released) for a in full] == [1, 0]
    assert len(music.released) == 1 and music.position == 1


async def test_a_new_job_never_jumps_the_jobs_already_waiting(repository: JobRepository) -> None:
    first, second, third = text_job(1), text_job(2), text_job(3)
    await repository.store_admitted(first, None, capacity=1)
    await repository.store_admitted(second, None, capacity=1)  # waits
    assert await repository.run(repository.record_result_op(finished(first).result))
    late = await repository.store_admitted(third, None, capacity=1)  # room again, but second waits
    assert [j.id for j in late.released] == [second.id]
    assert (await repository.get(third.id)).status is JobStatus.WAITING  # type: ignore[union-attr]


async def test_the_broker_holds_at_most_the_capacity_and_results_release_the_rest(
    small_runtime: Runtime,
) -> None:
    rt = small_runtime
    jobs = [text_job(n) for n in range(5)]
    receipts = [await rt.service.submit(job) for job in jobs]
    assert [r.queue_position for r in receipts] == [1, 2, 3, 4, 5]
    assert all(r.enqueued for r in receipts)  # waiting for room is not a broker failure
    assert await broker_length(rt) == 2
    assert not await rt.redis.exists(keys.enqueued_key(jobs[2].id))

    records = await rt.service.apply_events([finished(jobs[0]), finished(jobs[1])])
    assert [r.id for r in records if r is not None] == [jobs[0].id, jobs[1].id]
    assert await broker_length(rt) == 4  # 2 messages still on the queue, 2 released by the results
    assert await rt.redis.exists(keys.enqueued_key(jobs[2].id), keys.enqueued_key(jobs[3].id)) == 2
    assert (await rt.jobs.get(jobs[4].id)).status is JobStatus.WAITING  # type: ignore[union-attr]


async def test_a_waiting_job_cancels_at_once_and_its_place_goes_to_the_next(small_runtime: Runtime) -> None:
    rt = small_runtime
    jobs = [text_job(n) for n in range(4)]
    for job in jobs:
        await rt.service.submit(job)
    assert await rt.service.cancel(jobs[2].id) is CancelOutcome.CANCELLED
    cancelled = await rt.jobs.get(jobs[2].id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert await broker_length(rt) == 2  # never sent
    assert await rt.service.cancel(jobs[0].id) is CancelOutcome.CANCELLED  # queued: cancelled too
    assert (await rt.jobs.get(jobs[3].id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert await broker_length(rt) == 3  # job 3 took the room (job 0's message is skipped by workers)


async def test_a_refusing_check_stores_and_sends_nothing(small_runtime: Runtime) -> None:
    rt = small_runtime

    class NoRain:
        name = "no-rain"

        async def check(self, job: AnyJob) -> None:
            if "rain" in getattr(job.options, "prompt", ""):
                raise Refused("blocked_term", term="rain")

    rt.service.admission.add(NoRain())
    assert rt.service.admission.checks == ["no-rain"]
    refused = TextJob(options={"prompt": "rain on a tin roof"})
    with pytest.raises(Refused) as error:
        await rt.service.submit(refused)
    assert error.value.key == "blocked_term" and error.value.values == {"term": "rain"}
    assert await rt.jobs.get(refused.id) is None and await broker_length(rt) == 0
    assert (await rt.service.submit(text_job(1))).queue_position == 1


async def test_room_freed_outside_the_stream_is_released_by_the_reconciler_pass(
    small_runtime: Runtime,
) -> None:
    from bot.pipeline.reconciler import Reconciler
    from wire.contract import ErrorCode

    rt = small_runtime
    jobs = [text_job(n) for n in range(3)]
    for job in jobs:
        await rt.service.submit(job)
    assert await rt.jobs.fail(jobs[0].id, ErrorCode.WORKER_LOST, "gone")  # as the reconciler does
    report = await Reconciler(rt.service, rt.jobs, rt.settings).run_once()
    assert report.released == 1
    assert (await rt.jobs.get(jobs[2].id)).status is JobStatus.QUEUED  # type: ignore[union-attr]


async def test_concurrent_submissions_never_release_more_than_the_capacity(small_runtime: Runtime) -> None:
    rt = small_runtime
    jobs = [text_job(n) for n in range(20)]
    receipts = await asyncio.gather(*(rt.service.submit(job) for job in jobs))
    assert sorted(r.queue_position for r in receipts) == list(range(1, 21))
    assert await broker_length(rt) == 2


async def _drain_in_order(repository: JobRepository, first: AnyJob, capacity: int = 1) -> list[str]:
    """Finish the running job, release the next, and so on: the order in which jobs start."""
    started = [first.id]
    current = first
    while True:
        assert await repository.run(repository.record_result_op(finished(current).result))
        released = await repository.run(repository.release_op(current.modality, capacity))
        if not released:
            return started
        current = released[0]
        started.append(current.id)


def server_job(guild: int, user: int, n: int, start: datetime) -> TextJob:
    return text_job(n, guild_id=guild, user_id=user, created_at=start + timedelta(milliseconds=n))


async def test_a_busy_server_cannot_starve_another_and_positions_are_honest(
    repository: JobRepository,
) -> None:
    start = utcnow()
    busy = [server_job(1, 11, n, start) for n in range(100)]
    for job in busy:
        await repository.store_admitted(job, None, capacity=1)
    newcomer = server_job(2, 22, 100, start)
    admitted = await repository.store_admitted(newcomer, None, capacity=1)
    order = await _drain_in_order(repository, busy[0])
    assert len(order) == 101
    assert order.index(newcomer.id) == 2  # after the running job and one more of the busy server's
    assert admitted.position == order.index(newcomer.id) + 1  # what the member was told


async def test_servers_take_turns_by_weight_and_members_take_turns_within_a_server(
    repository: JobRepository,
) -> None:
    start = utcnow()
    first = server_job(9, 90, 0, start)
    await repository.store_admitted(first, None, capacity=1)  # runs; everything else waits
    jobs = [server_job(1, 11, n, start) for n in range(1, 7)]  # server 1, member 11: six jobs
    jobs += [server_job(1, 12, n, start) for n in range(7, 10)]  # server 1, member 12: three, later
    jobs += [server_job(2, 21, n, start) for n in range(10, 16)]  # server 2 (weight 2): six jobs
    for job in jobs:
        await repository.store_admitted(job, None, capacity=1, weight=2.0 if job.guild_id == 2 else 1.0)
    order = await _drain_in_order(repository, first)
    servers = [next(j for j in jobs if j.id == job_id).guild_id for job_id in order[1:]]
    members = [next(j for j in jobs if j.id == job_id).user_id for job_id in order[1:]]
    # server 2 has twice server 1's share while both wait
    assert servers[:9].count(2) >= 5, servers
    # member 12, who came later, does not wait behind all of member 11's jobs
    assert members.index(12) < len(members) - 1 - members[::-1].index(11), members
