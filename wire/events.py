"""Progress and result events on a durable Redis Stream.

Workers publish; the bot reads through a consumer group, acknowledging an event only after it has been
handled, so an event published while the bot is down (or one whose handler failed) is delivered later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis
from pydantic import BaseModel

from wire.contract import (
    ContractError,
    EmbeddedEvent,
    ProgressEvent,
    ResultEvent,
    StartedEvent,
    dump,
    parse_event,
)

log = logging.getLogger(__name__)

AnyEvent = StartedEvent | ProgressEvent | ResultEvent | EmbeddedEvent
Handler = Callable[[AnyEvent], Awaitable[None]]
BatchHandler = Callable[[list[AnyEvent]], Awaitable[None]]


class EventPublisher:
    """Appends events to the stream (synchronous: used inside Celery tasks)."""

    def __init__(self, client: redis.Redis, stream: str, maxlen: int) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen

    def publish(self, event: BaseModel) -> str:
        entry_id = self.client.xadd(self.stream, {"event": dump(event)}, maxlen=self.maxlen, approximate=True)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def _decode(fields: dict[Any, Any]) -> AnyEvent | None:
    raw = fields.get(b"event", fields.get("event"))
    if raw is None:
        return None
    try:
        return parse_event(raw)
    except ContractError as error:
        log.error("dropping malformed event: %s", error)
        return None


class EventConsumer:
    """Reads the stream through a consumer group and hands each event to an async handler.

    With a `batch_handler`, each batch read goes to it whole, in stream order (the bot records a
    batch in one database transaction); if it raises, the batch is handled again event by event
    through `handler`, so one bad event holds back only its own job.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        batch: int = 50,
        concurrency: int = 1,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.handler = handler
        self.batch_handler = batch_handler
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.batch = batch
        self.concurrency = asyncio.Semaphore(concurrency)
        self.handled = 0
        self._acks: set[asyncio.Future[Any]] = set()  # acknowledgements still on their way
        # While `run` goes on, reads and background acknowledgements each hold a connection of their
        # own: taking one from the pool and giving it back for every command cost a tenth of the
        # bot's event-loop time (py-spy, `python -m bench.pipeline`).
        self._reader = client
        self._acker = client

    async def ensure_group(self) -> None:
        """Create the group (and the stream) if needed; a new group starts at the stream's beginning."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except aioredis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _handle(self, entries: list[tuple[Any, dict[Any, Any]]], *, ack_later: bool = False) -> int:
        """Handle a batch (whole, through the batch handler, or else per job); ack what succeeded.

        With `ack_later`, a batch handled whole returns before its acknowledgement is back (see
        `_acks`): the next batch need not wait for that round trip.
        """
        if self.batch_handler is not None:
            decoded = [(entry_id, _decode(fields)) for entry_id, fields in entries]
            try:
                await self.batch_handler([event for _, event in decoded if event is not None])
            except Exception:
                log.exception("batch handler failed; handling the batch event by event")
            else:
                ids = [entry_id for entry_id, _ in decoded]
                ack = (self._acker if ack_later else self.client).xack(self.stream, self.group, *ids)
                if ack_later:
                    task = asyncio.ensure_future(ack)
                    self._acks.add(task)
                    task.add_done_callback(self._acked)
                else:
                    await ack
                self.handled += len(decoded)
                return len(decoded)
        return await self._handle_per_job(entries)

    def _acked(self, task: asyncio.Future[Any]) -> None:
        """An acknowledgement sent in the background is back; one that failed leaves its events
        pending, and they are handled again (idempotently) by the next `drain_pending`."""
        self._acks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not acknowledge events (%s); they will be handled again", task.exception())

    async def _wait_for_acks(self) -> None:
        if self._acks:
            await asyncio.gather(*self._acks, return_exceptions=True)

    async def _handle_per_job(self, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        """Handle a batch: each job's events in order, up to `concurrency` jobs at once; ack what succeeded.

        When a handler fails, that event and the later events of the same job stay pending (they are
        retried in order); the other jobs' events go on.
        """
        by_job: dict[str, list[tuple[Any, AnyEvent | None]]] = {}
        for entry_id, fields in entries:
            event = _decode(fields)
            key = event_job_id(event) if event is not None else f"malformed:{entry_id!r}"
            by_job.setdefault(key, []).append((entry_id, event))

        async def run(items: list[tuple[Any, AnyEvent | None]]) -> list[Any]:
            async with self.concurrency:
                return await run_in_order(items)

        async def run_in_order(items: list[tuple[Any, AnyEvent | None]]) -> list[Any]:
            handled = []
            for entry_id, event in items:
                if event is not None:
                    try:
                        await self.handler(event)
                    except Exception:
                        log.exception("event handler failed; the event stays pending and is retried")
                        break
                handled.append(entry_id)
            return handled

        done = [
            entry_id for ids in await asyncio.gather(*(run(i) for i in by_job.values())) for entry_id in ids
        ]
        if done:
            await self.client.xack(self.stream, self.group, *done)
        self.handled += len(done)
        return len(done)

    async def drain_pending(self) -> None:
        """Handle what this consumer read but never acknowledged, and what dead consumers left behind."""
        await self._wait_for_acks()
        while True:
            reply: Any = await self.client.xreadgroup(
                self.group, self.consumer, {self.stream: "0"}, count=self.batch
            )
            entries = reply[0][1] if reply else []
            if not entries or await self._handle(entries) < len(entries):
                break
        claimed: Any = await self.client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )
        if claimed and claimed[1]:
            await self._handle(claimed[1])

    async def poll_once(self) -> int:
        """Read and handle one batch of new events; returns how many were handled."""
        entries = await self._read_new()
        return await self._handle(entries) if entries else 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; survives Redis restarts and retries pending events.

        While one batch is being handled, the next is already being read: a job's result is read as
        soon as the worker publishes it, instead of after its started event has been written and
        acknowledged. Batches are still handled (and acknowledged) one after another, in stream order.
        """
        loop = asyncio.get_running_loop()
        ready = False
        last_pending_check = loop.time()
        in_flight: asyncio.Task[int] | None = None
        self._reader, self._acker = self.client.client(), self.client.client()
        try:
            while not stop.is_set():
                try:
                    if not ready:  # nothing is in flight here: every way back to this sets it None
                        await self.ensure_group()
                        await self.drain_pending()
                        ready, last_pending_check = True, loop.time()
                    entries = await self._read_new()
                    await _finish(in_flight)  # the previous batch first: stream order
                    in_flight = None
                    if entries:
                        in_flight = asyncio.create_task(self._handle(entries, ack_later=True))
                    if loop.time() - last_pending_check > 5:
                        await _finish(in_flight)
                        in_flight = None
                        await self.drain_pending()
                        last_pending_check = loop.time()
                except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as error:
                    log.warning("event stream unavailable (%s); retrying in 1 s", error)
                    await _finish_quietly(in_flight)  # unacked: drained later
                    ready, in_flight = False, None
                    await asyncio.sleep(1)
                except aioredis.ResponseError as error:
                    if "NOGROUP" not in str(error):
                        raise
                    log.warning("consumer group vanished (Redis restarted?); recreating it")
                    await _finish_quietly(in_flight)
                    ready, in_flight = False, None
        finally:
            await _finish_quietly(in_flight)
            await self._wait_for_acks()
            for own in (self._reader, self._acker):
                await own.aclose()  # its connection goes back to the pool
            self._reader = self._acker = self.client

    async def _read_new(self) -> list[tuple[Any, dict[Any, Any]]]:
        reply: Any = await self._reader.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=self.block_ms
        )
        return reply[0][1] if reply else []


async def _finish(task: asyncio.Task[int] | None) -> None:
    """Wait for a batch being handled; its Redis errors are raised here."""
    if task is not None:
        await task


async def _finish_quietly(task: asyncio.Task[int] | None) -> None:
    """Wait for a batch being handled, whatever became of it (what it could not ack stays pending)."""
    if task is not None:
        with contextlib.suppress(aioredis.RedisError, OSError):
            await task


async def last_entry_id(client: aioredis.Redis, stream: str) -> str:
    """The id of the newest entry (or "0-0"): start a tail here to miss nothing from now on."""
    entries = await client.xrevrange(stream, count=1)
    if not entries:
        return "0-0"
    entry_id = entries[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def tail_events(
    client: aioredis.Redis, stream: str, start_id: str, *, block_ms: int = 1000
) -> AsyncIterator[AnyEvent]:
    """Follow the stream from `start_id` without a group (for the CLI): every event, nobody else's loss."""
    cursor = start_id
    while True:
        reply: Any = await client.xread({stream: cursor}, block=block_ms, count=100)
        for _, entries in reply or []:
            for entry_id, fields in entries:
                cursor = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                event = _decode(fields)
                if event is not None:
                    yield event


def event_job_id(event: AnyEvent) -> str:
    """The job an event is about."""
    if isinstance(event, ProgressEvent):
        return event.progress.job_id
    if isinstance(event, ResultEvent):
        return event.result.job_id
    if isinstance(event, EmbeddedEvent):
        return f"embedded:{event.request_id}"  # no job: its own key, so it never holds one back
    return event.job_id
