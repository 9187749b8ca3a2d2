"""Guild settings: read from memory, written as a compare-and-set, and invalidated in every process
(here: two services on one database and one Redis, as two bot processes would be)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.db.database import open_database
from bot.db.engine import upgrade_database
from bot.db.guilds import GuildSettingsRepository, StaleSettingsError
from bot.guilds.service import GuildSettingsService
from bot.guilds.settings import GuildSettings, InvalidSettingsError, parse_settings
from tests.polling import wait_until
from tests.services import RedisServer

GUILD, OTHER = 1001, 2002


class Example(GuildSettings):
    """A stand-in for the fields moderation will add."""

    greeting: str = "hello"
    limit: int = 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[GuildSettingsRepository]:
    await upgrade_database(database_url)
    database = open_database(database_url)
    yield GuildSettingsRepository(database)
    await database.close()


@pytest.fixture
async def redis(redis_server: RedisServer, redis_client: object) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


async def test_a_server_without_settings_gets_the_defaults_and_reads_are_cached(
    repository: GuildSettingsRepository,
) -> None:
    clock = Clock()
    service = GuildSettingsService(repository, None, Example, ttl_s=60, clock=clock)
    assert await service.get(GUILD) == Example()
    assert await service.get(GUILD) == Example()
    assert service.reads == 1
    clock.now = 61  # the safety net: an entry older than the ttl is read again
    await service.get(GUILD)
    assert service.reads == 2


async def test_an_update_is_stored_versioned_and_kept_apart_per_server(
    repository: GuildSettingsRepository,
) -> None:
    service = GuildSettingsService(repository, None, Example)
    before, after = await service.update(GUILD, lambda s: s.model_copy(update={"limit": 7}), by=42)
    assert (before.limit, after.limit) == (3, 7)
    stored = await repository.get(GUILD)
    assert (stored.version, stored.data["limit"], stored.updated_by) == (1, 7, 42)
    assert await service.get(GUILD) == after and service.reads == 0  # the writer's cache holds it
    assert (await service.get(OTHER)).limit == 3
    await service.update(GUILD, lambda s: s.model_copy(update={"greeting": "hi"}), by=43)
    assert (await repository.get(GUILD)).version == 2


async def test_a_write_on_a_stale_version_is_refused(repository: GuildSettingsRepository) -> None:
    await repository.put(GUILD, {"limit": 1}, expected_version=0, updated_by=None)
    with pytest.raises(StaleSettingsError):
        await repository.put(GUILD, {"limit": 2}, expected_version=0, updated_by=None)
    await repository.put(GUILD, {"limit": 2}, expected_version=1, updated_by=None)
    with pytest.raises(StaleSettingsError):
        await repository.put(GUILD, {"limit": 3}, expected_version=1, updated_by=None)
    assert (await repository.get(GUILD)).data == {"limit": 2}


async def test_concurrent_updates_from_two_processes_lose_nothing(
    repository: GuildSettingsRepository,
) -> None:
    first = GuildSettingsService(repository, None, Example)
    second = GuildSettingsService(repository, None, Example)

    def bump(settings: Example) -> Example:
        return settings.model_copy(update={"limit": settings.limit + 1})

    await asyncio.gather(*(service.update(GUILD, bump, by=1) for service in (first, second) * 2))
    stored = await repository.get(GUILD)
    assert stored.data["limit"] == 3 + 4 and stored.version == 4


async def test_a_write_in_one_process_invalidates_the_others(
    repository: GuildSettingsRepository, redis: aioredis.Redis
) -> None:
    writer = GuildSettingsService(repository, redis, Example, ttl_s=3600)
    reader = GuildSettingsService(repository, redis, Example, ttl_s=3600)
    stop = asyncio.Event()
    listening = asyncio.create_task(reader.listen(stop))
    try:
        await wait_until(lambda: _subscribed(redis), 10)
        assert (await reader.get(GUILD)).limit == 3  # cached now, for an hour
        await writer.update(GUILD, lambda s: s.model_copy(update={"limit": 9}), by=5)

        async def sees_it() -> bool:
            return (await reader.get(GUILD)).limit == 9

        assert await wait_until(sees_it, 10)
    finally:
        stop.set()
        await listening


async def _subscribed(redis: aioredis.Redis) -> bool:
    counts = await redis.pubsub_numsub("atelier:guild-settings")
    return bool(counts and counts[0][1] >= 1)


def test_unknown_or_invalid_keys_are_refused_with_their_names() -> None:
    with pytest.raises(InvalidSettingsError, match="limit"):
        parse_settings({"limit": "many"}, Example)
    with pytest.raises(InvalidSettingsError, match="colour"):
        parse_settings({"colour": "red"}, Example)
