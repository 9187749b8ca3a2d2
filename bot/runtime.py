"""Wires the bot side together from settings: database, Redis, Celery (send only), job service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from celery import Celery

from bot.db.database import Database, open_database
from bot.db.engine import upgrade_database
from bot.db.jobs import JobRepository
from bot.pipeline.admission import Admission
from bot.pipeline.service import JobService
from config.settings import Settings, get_settings
from wire.artifacts import ArtifactStore, ArtifactUnavailable, make_store
from wire.broker import create_producer

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a bot-side process needs, opened together and closed together.

    `database` runs units of work for every repository; each aggregate has its own repository
    (`jobs` here; the guild settings, timers and later features open theirs on the same database).
    """

    settings: Settings
    database: Database
    jobs: JobRepository
    redis: aioredis.Redis
    celery: Celery
    service: JobService
    store: ArtifactStore


@asynccontextmanager
async def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> AsyncIterator[Runtime]:
    """Open the database (migrating it to head), Redis and the Celery producer."""
    settings = settings or get_settings()
    if migrate:
        await upgrade_database(settings.database_url)
    database = open_database(settings.database_url)
    jobs = JobRepository(database)
    # Blocking pool: a burst of submissions waits for a free connection instead of failing at 100.
    pool = aioredis.BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=30)
    client = aioredis.Redis.from_pool(pool)  # closes the pool with the client
    celery_app = create_producer(settings.redis_url, settings.visibility_timeout_s)
    marker_client = redis.Redis.from_url(settings.redis_url)
    admission = Admission(settings.admission, weights=settings.moderation.server_weights)
    service = JobService(jobs, celery_app, client, settings.artifacts.redis_ttl_s, marker_client, admission)
    store = make_store(settings)
    try:
        try:
            await asyncio.to_thread(store.check)
        except ArtifactUnavailable as error:  # said once at start; deliveries wait until it is fixed
            log.error("the artifact store is unusable: %s", error)
        yield Runtime(settings, database, jobs, client, celery_app, service, store)
    finally:
        await service.close()
        marker_client.close()
        await client.aclose()
        await database.close()
        celery_app.close()
