"""The event stream: durable through a consumer group, acknowledged only after handling."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio as aioredis

from config.settings import Settings
from tests.polling import wait_until
from wire.contract import Progress, ProgressEvent, StartedEvent
from wire.events import AnyEvent, EventConsumer, EventPublisher, event_job_id, last_entry_id, tail_events

JOB = "c" * 32


def _publisher(settings: Settings, client: redis.Redis) -> EventPublisher:
    return EventPublisher(client, settings.events.stream, 1000)


async def _pending(settings: Settings, client: aioredis.Redis) -> int:
    """How many events the test's consumer group has read but not acknowledged."""
    summary: Any = await client.xpending(settings.events.stream, settings.events.group)
    return int(summary["pending"])


def _consumer(
    settings: Settings, client: aioredis.Redis, handler: object, name: str = "bot-1"
) -> EventConsumer:
    return EventConsumer(
        client,
        settings.events.stream,
        settings.events.group,
        name,
        handler,  # type: ignore[arg-type]
        block_ms=100,
        claim_idle_ms=100,
    )


async def test_events_published_while_consumer_is_down_arrive_later(
    settings: Settings, redis_client: redis.Redis
) -> None:
    seen: list[AnyEvent] = []

    async def handler(event: AnyEvent) -> None:
        seen.append(event)

    client = aioredis.Redis.from_url(settings.redis_url)
    first = _consumer(settings, client, handler)
    await first.ensure_group()
    publisher = _publisher(settings, redis_client)
    publisher.publish(StartedEvent(job_id=JOB, worker="w"))
    await first.poll_once()
    assert len(seen) == 1
    # consumer "down": events keep coming
    for i in range(5):
        publisher.publish(ProgressEvent(progress=Progress(job_id=JOB, fraction=i / 5)))
    second = _consumer(settings, client, handler)  # a restarted bot
    await second.drain_pending()
    while await second.poll_once():
        pass
    assert len(seen) == 6
    assert [e.progress.fraction for e in seen[1:] if isinstance(e, ProgressEvent)] == [0, 0.2, 0.4, 0.6, 0.8]
    assert await _pending(settings, client) == 0
    await client.aclose()


async def test_failed_handler_leaves_event_pending_and_it_is_retried(
    settings: Settings, redis_client: redis.Redis
) -> None:
    calls: list[str] = []

    async def flaky(event: AnyEvent) -> None:
        calls.append(event_job_id(event))
        if len(calls) == 1:
            raise RuntimeError("database briefly down")

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, flaky)
    await consumer.ensure_group()
    _publisher(settings, redis_client).publish(StartedEvent(job_id=JOB, worker="w"))
    await consumer.poll_once()
    assert await _pending(settings, client) == 1  # not acknowledged
    await consumer.drain_pending()
    assert calls == [JOB, JOB]
    assert await _pending(settings, client) == 0
    await client.aclose()


async def test_a_dead_consumers_events_are_claimed(settings: Settings, redis_client: redis.Redis) -> None:
    async def crash(event: AnyEvent) -> None:
        raise RuntimeError("bot process dies mid-handling")

    seen: list[AnyEvent] = []

    async def handler(event: AnyEvent) -> None:
        seen.append(event)

    client = aioredis.Redis.from_url(settings.redis_url)
    dead = _consumer(settings, client, crash, name="bot-dead")
    await dead.ensure_group()
    _publisher(settings, redis_client).publish(StartedEvent(job_id=JOB, worker="w"))
    await dead.poll_once()
    await asyncio.sleep(0.2)  # longer than claim_idle_ms
    alive = _consumer(settings, client, handler, name="bot-alive")
    await alive.drain_pending()
    assert len(seen) == 1
    await client.aclose()


async def test_malformed_events_are_dropped_not_stuck(settings: Settings, redis_client: redis.Redis) -> None:
    seen: list[AnyEvent] = []

    async def handler(event: AnyEvent) -> None:
        seen.append(event)

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, handler)
    await consumer.ensure_group()
    redis_client.xadd(settings.events.stream, {"event": "{broken"})
    _publisher(settings, redis_client).publish(StartedEvent(job_id=JOB, worker="w"))
    await consumer.poll_once()
    assert len(seen) == 1
    assert await _pending(settings, client) == 0
    await client.aclose()


async def test_tail_sees_everything_after_the_start_id(settings: Settings, redis_client: redis.Redis) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    publisher = _publisher(settings, redis_client)
    publisher.publish(StartedEvent(job_id="d" * 32, worker="old"))
    start = await last_entry_id(client, settings.events.stream)
    publisher.publish(StartedEvent(job_id=JOB, worker="new"))
    seen = []
    async with asyncio.timeout(5):
        async for event in tail_events(client, settings.events.stream, start, block_ms=100):
            seen.append(event)
            break
    assert isinstance(seen[0], StartedEvent) and seen[0].worker == "new"
    await client.aclose()


async def test_one_jobs_failure_holds_back_only_that_jobs_later_events(
    settings: Settings, redis_client: redis.Redis
) -> None:
    other = "e" * 32
    seen: list[tuple[str, str]] = []
    fail_once = {JOB}

    async def handler(event: AnyEvent) -> None:
        job_id = event_job_id(event)
        if job_id in fail_once and isinstance(event, StartedEvent):
            fail_once.discard(job_id)
            raise RuntimeError("transient")
        seen.append((job_id, event.type))

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, handler)
    await consumer.ensure_group()
    publisher = _publisher(settings, redis_client)
    publisher.publish(StartedEvent(job_id=JOB, worker="w"))
    publisher.publish(StartedEvent(job_id=other, worker="w"))
    publisher.publish(ProgressEvent(progress=Progress(job_id=JOB, fraction=0.5)))
    publisher.publish(ProgressEvent(progress=Progress(job_id=other, fraction=0.5)))
    assert await consumer.poll_once() == 2  # the other job's two events
    assert seen == [(other, "started"), (other, "progress")]
    await consumer.drain_pending()  # JOB's events, retried in their order
    assert seen[2:] == [(JOB, "started"), (JOB, "progress")]
    assert await _pending(settings, client) == 0
    await client.aclose()


async def test_a_batch_goes_to_the_batch_handler_whole_and_in_stream_order(
    settings: Settings, redis_client: redis.Redis
) -> None:
    batches: list[list[tuple[str, str]]] = []

    async def per_event(event: AnyEvent) -> None:
        raise AssertionError("the batch handler took the batch")

    async def whole(events: list[AnyEvent]) -> None:
        batches.append([(event_job_id(e), e.type) for e in events])

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, per_event)
    consumer.batch_handler = whole
    await consumer.ensure_group()
    publisher = _publisher(settings, redis_client)
    publisher.publish(StartedEvent(job_id=JOB, worker="w"))
    redis_client.xadd(settings.events.stream, {"event": "not json"})
    publisher.publish(ProgressEvent(progress=Progress(job_id=JOB, fraction=0.5)))
    assert await consumer.poll_once() == 3  # the malformed entry is acknowledged and dropped
    assert batches == [[(JOB, "started"), (JOB, "progress")]]
    assert await _pending(settings, client) == 0
    await client.aclose()


async def test_a_failing_batch_is_handled_again_event_by_event(
    settings: Settings, redis_client: redis.Redis
) -> None:
    other = "e" * 32
    seen: list[tuple[str, str]] = []

    async def whole(events: list[AnyEvent]) -> None:
        raise RuntimeError("one event in the batch is bad")

    async def per_event(event: AnyEvent) -> None:
        if event_job_id(event) == JOB:
            raise RuntimeError("this job's event is the bad one")
        seen.append((event_job_id(event), event.type))

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, per_event)
    consumer.batch_handler = whole
    await consumer.ensure_group()
    publisher = _publisher(settings, redis_client)
    publisher.publish(StartedEvent(job_id=JOB, worker="w"))
    publisher.publish(StartedEvent(job_id=other, worker="w"))
    assert await consumer.poll_once() == 1
    assert seen == [(other, "started")]
    assert await _pending(settings, client) == 1  # the bad job's event waits for a retry
    await client.aclose()


async def test_run_reads_ahead_but_handles_batches_one_at_a_time_in_order(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """While a batch is handled the next is already read from the stream, but never handled before
    the first is done; everything is acknowledged by the time `run` returns."""
    handled: list[float] = []
    calls = 0
    running = 0
    overlapped = False
    first_entered = asyncio.Event()
    release_first = asyncio.Event()

    async def per_event(event: AnyEvent) -> None:
        raise AssertionError("the batch handler took every batch")

    async def whole(events: list[AnyEvent]) -> None:
        nonlocal calls, running, overlapped
        calls += 1
        running += 1
        overlapped = overlapped or running > 1
        if calls == 1:
            first_entered.set()
            await release_first.wait()  # held until the test has seen the next batch read
        handled.extend(e.progress.fraction for e in events if isinstance(e, ProgressEvent))
        running -= 1

    def publish(*indexes: int) -> None:
        for i in indexes:
            publisher.publish(ProgressEvent(progress=Progress(job_id=JOB, fraction=i / 10)))

    client = aioredis.Redis.from_url(settings.redis_url)
    consumer = _consumer(settings, client, per_event)
    consumer.batch_handler = whole
    consumer.batch = 2
    await consumer.ensure_group()
    publisher = _publisher(settings, redis_client)
    publish(0, 1)  # the first batch, there before `run` reads
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(first_entered.wait(), 10)
    publish(2, 3)
    # Read while the first batch is still being handled: entries beyond the first two are delivered to
    # this consumer (pending, not yet acknowledged), and no second batch has been handled.
    await wait_until(_read_ahead(settings, client, beyond=2), timeout=10, interval=0.02)
    assert calls == 1 and handled == []
    release_first.set()
    publish(*range(4, 10))
    await wait_until(lambda: len(handled) == 10, timeout=10, interval=0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert handled == [i / 10 for i in range(10)]
    assert calls >= 2 and not overlapped
    assert await _pending(settings, client) == 0
    await client.aclose()


def _read_ahead(settings: Settings, client: aioredis.Redis, *, beyond: int) -> Any:
    """A check for `wait_until`: more than `beyond` events read by the group and not acknowledged."""

    async def check() -> bool:
        return await _pending(settings, client) > beyond

    return check


async def test_run_gives_its_own_connections_back_when_it_stops(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """`run` reads and acknowledges on connections of its own; stopped and started again many times
    on a pool of three, it never runs out (a leak would leave the later runs without a connection)."""
    seen: list[AnyEvent] = []

    async def handler(event: AnyEvent) -> None:
        seen.append(event)

    pool = aioredis.BlockingConnectionPool.from_url(settings.redis_url, max_connections=3, timeout=1)
    client = aioredis.Redis(connection_pool=pool)
    publisher = _publisher(settings, redis_client)
    for i in range(5):
        consumer = _consumer(settings, client, handler)
        await consumer.ensure_group()
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        publisher.publish(StartedEvent(job_id=JOB, worker=f"w-{i}"))
        await wait_until(lambda i=i: len(seen) == i + 1, timeout=2, interval=0.02)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert len(seen) == i + 1, f"run {i} handled nothing"
    assert await _pending(settings, client) == 0
    await client.aclose()
    await pool.aclose()
