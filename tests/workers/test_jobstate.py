"""The worker's atomic job-state scripts on a real Redis: begin, finish, release, heartbeats."""

from __future__ import annotations

import time

import redis

from config.settings import Settings
from wire import keys
from wire.contract import (
    ErrorCode,
    JobResult,
    Outcome,
    ResultEvent,
    StartedEvent,
    new_job_id,
    parse_event,
    utcnow,
)
from workers.jobstate import LOCK_TTL_S, Heartbeats, JobState, Start


def _state(settings: Settings, client: redis.Redis) -> JobState:
    return JobState(client, settings.events.stream, 1000, ttl_s=600)


def _events(settings: Settings, client: redis.Redis) -> list[ResultEvent]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(settings.events.stream)  # type: ignore[assignment]
    events = [parse_event(fields[b"event"]) for _, fields in entries]
    return [event for event in events if isinstance(event, ResultEvent)]


def test_begin_locks_and_counts_attempts(settings: Settings, redis_client: redis.Redis) -> None:
    state = _state(settings, redis_client)
    job_id = new_job_id()
    first = state.begin(job_id, "worker-a")
    assert (first.state, first.attempt) == (Start.RUN, 1)
    assert redis_client.get(keys.lock_key(job_id)) == b"worker-a"
    assert 0 < redis_client.ttl(keys.lock_key(job_id)) <= LOCK_TTL_S
    assert state.begin(job_id, "worker-b").state is Start.BUSY
    state.release(job_id, "worker-b")  # not its lock: nothing happens
    assert redis_client.get(keys.lock_key(job_id)) == b"worker-a"
    state.release(job_id, "worker-a")
    again = state.begin(job_id, "worker-b")
    assert (again.state, again.attempt) == (Start.RUN, 2)


def test_begin_sees_a_cancel_request_before_taking_the_lock(
    settings: Settings, redis_client: redis.Redis
) -> None:
    state = _state(settings, redis_client)
    job_id = new_job_id()
    redis_client.set(keys.cancel_key(job_id), "1")
    assert state.begin(job_id, "worker-a").state is Start.CANCELLED
    assert redis_client.get(keys.lock_key(job_id)) is None
    assert redis_client.get(keys.attempts_key(job_id)) is None


def test_finish_stores_publishes_and_releases_and_the_first_result_wins(
    settings: Settings, redis_client: redis.Redis
) -> None:
    state = _state(settings, redis_client)
    job_id = new_job_id()
    assert state.begin(job_id, "worker-a").state is Start.RUN
    redis_client.set(keys.enqueued_key(job_id), "1")
    first = JobResult(job_id=job_id, status=Outcome.SUCCEEDED, text="first", metadata={"n": 1.5})
    assert state.finish(first, "worker-a") == first
    assert redis_client.get(keys.lock_key(job_id)) is None
    assert redis_client.get(keys.enqueued_key(job_id)) is None

    late = JobResult(job_id=job_id, status=Outcome.FAILED, error="late", error_code=ErrorCode.INTERNAL)
    assert state.finish(late, None) == first  # a late duplicate republishes the stored result
    published = _events(settings, redis_client)
    assert [event.result for event in published] == [first, first]

    done = state.begin(job_id, "worker-b")
    assert (done.state, done.stored) == (Start.DONE, first)


def test_finish_leaves_another_owners_lock_alone(settings: Settings, redis_client: redis.Redis) -> None:
    state = _state(settings, redis_client)
    job_id = new_job_id()
    redis_client.set(keys.lock_key(job_id), "worker-b")
    state.finish(JobResult(job_id=job_id, status=Outcome.SUCCEEDED), "worker-a")
    assert redis_client.get(keys.lock_key(job_id)) == b"worker-b"


def test_heartbeats_keep_held_locks_alive_and_only_their_own(
    settings: Settings, redis_client: redis.Redis
) -> None:
    state = _state(settings, redis_client)
    ours, theirs = new_job_id(), new_job_id()
    assert state.begin(ours, "worker-a").state is Start.RUN
    redis_client.set(keys.lock_key(theirs), "worker-b", ex=LOCK_TTL_S)
    redis_client.expire(keys.lock_key(ours), 1)
    redis_client.expire(keys.lock_key(theirs), 1)
    heartbeats = Heartbeats(redis_client, interval_s=0.1)
    heartbeats.hold(ours, "worker-a")
    heartbeats.hold(theirs, "worker-a")  # held by name, but the lock belongs to worker-b
    time.sleep(0.5)
    heartbeats.stop()
    assert redis_client.ttl(keys.lock_key(ours)) > 1
    assert redis_client.ttl(keys.lock_key(theirs)) <= 1
    heartbeats.drop(ours)
    assert heartbeats.held() == {theirs: "worker-a"}


def test_begin_can_publish_the_started_event_with_the_attempt_it_counted(
    settings: Settings, redis_client: redis.Redis
) -> None:
    state = _state(settings, redis_client)
    job_id = new_job_id()
    at = utcnow()
    assert state.begin(job_id, "worker-a", started_at=at).attempt == 1
    state.release(job_id, "worker-a")
    assert state.begin(job_id, "worker-b", started_at=at).attempt == 2
    assert state.begin(job_id, "worker-c", started_at=at).state is Start.BUSY  # publishes nothing
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis_client.xrange(settings.events.stream)  # type: ignore[assignment]
    events = [parse_event(fields[b"event"]) for _, fields in entries]
    assert events == [
        StartedEvent(job_id=job_id, worker="worker-a", attempt=1, at=at),
        StartedEvent(job_id=job_id, worker="worker-b", attempt=2, at=at),
    ]
