"""Queue depths: jobs waiting, queued and running per modality and per server (the database, which
the bot owns), and messages on each broker queue (Redis lists), read every `metrics.refresh_s`.

The numbers are read in the background and served from the last reading, so a scrape never waits
on the database; `atelier_queue_depth_updated_timestamp_seconds` says when they were read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from kombu.transport import redis as kombu_redis
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.db.jobs import JobRepository
from bot.db.status import ACTIVE_STATUSES
from wire.contract import MODALITIES
from wire.routing import ALL_QUEUES

log = logging.getLogger(__name__)

PRIORITY_STEPS = tuple(kombu_redis.PRIORITY_STEPS)  # kombu's Redis transport: a list per priority step
PRIORITY_SEP = kombu_redis.Channel.sep
STATUSES = sorted(status.value for status in ACTIVE_STATUSES)


def queue_lists(queue: str) -> list[str]:
    """The Redis lists that hold a queue's messages."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


@dataclass(frozen=True)
class Depths:
    """One reading: (modality, status) and (server, status) → jobs, queue → messages."""

    by_modality: dict[tuple[str, str], int] = field(default_factory=dict)
    by_server: dict[tuple[str, str], int] = field(default_factory=dict)
    broker: dict[str, int] = field(default_factory=dict)
    read_at: float = 0.0


async def read_depths(jobs: JobRepository, client: aioredis.Redis) -> Depths:
    """Count active jobs in the database and messages on the broker's queues."""
    by_modality: dict[tuple[str, str], int] = {(m, s): 0 for m in MODALITIES for s in STATUSES}
    by_server: dict[tuple[str, str], int] = {}
    for modality, guild_id, status, count in await jobs.active_counts():
        by_modality[(modality, status)] = by_modality.get((modality, status), 0) + count
        server = str(guild_id) if guild_id is not None else "none"
        by_server[(server, status)] = by_server.get((server, status), 0) + count
    pipe = client.pipeline(transaction=False)
    for queue in ALL_QUEUES:
        for name in queue_lists(queue):
            pipe.llen(name)
    lengths = iter(await pipe.execute())
    broker = {queue: sum(int(next(lengths)) for _ in PRIORITY_STEPS) for queue in ALL_QUEUES}
    return Depths(by_modality, by_server, broker, time.time())


class QueueDepthCollector(Collector):
    """Serves the latest reading as gauges (servers with no active job are left out)."""

    def __init__(self) -> None:
        self.depths: Depths | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self.depths
        if depths is None:
            return
        jobs = GaugeMetricFamily(
            "atelier_queue_depth",
            "Jobs waiting (in the database), queued (on the broker) or running, by modality.",
            labels=["modality", "status"],
        )
        for (modality, status), count in sorted(depths.by_modality.items()):
            jobs.add_metric([modality, status], count)
        servers = GaugeMetricFamily(
            "atelier_server_queue_depth",
            "Jobs waiting, queued or running, by server (guild id).",
            labels=["guild", "status"],
        )
        for (server, status), count in sorted(depths.by_server.items()):
            servers.add_metric([server, status], count)
        broker = GaugeMetricFamily(
            "atelier_broker_queue_messages",
            "Messages on each broker queue (not yet taken).",
            labels=["queue"],
        )
        for queue, count in sorted(depths.broker.items()):
            broker.add_metric([queue], count)
        updated = GaugeMetricFamily(
            "atelier_queue_depth_updated_timestamp_seconds", "When the queue depths were last read."
        )
        updated.add_metric([], depths.read_at)
        yield from (jobs, servers, broker, updated)


COLLECTOR = QueueDepthCollector()
REGISTRY.register(COLLECTOR)


async def refresh_forever(
    jobs: JobRepository, client: aioredis.Redis, stop: asyncio.Event, interval_s: float
) -> None:
    """Read the depths now and every `interval_s` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            COLLECTOR.depths = await read_depths(jobs, client)
        except Exception as error:  # the database or Redis away for a moment: keep the last reading
            log.warning("metrics: reading queue depths failed: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
