"""Each server's settings, cached in every bot process and invalidated on every write.

Reads are from memory (a slash command must be answered in milliseconds). A write goes to the
database as a compare-and-set on the version it read, then drops the entry here and tells every
other bot process (shards, the scheduler) on a Redis channel, so each reads the new document on
its next use. Entries also expire after `ttl_s`, a safety net for a missed message (Redis down for
a moment); a missed invalidation is therefore stale for at most that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

import redis.asyncio as aioredis

from bot.db.guilds import GuildSettingsRepository, StaleSettingsError, StoredGuildSettings
from bot.guilds.settings import GuildSettings, S, parse_settings

log = logging.getLogger(__name__)

CHANNEL = "atelier:guild-settings"
WRITE_RETRIES = 5


@dataclass(frozen=True)
class _Entry(Generic[S]):
    settings: S
    version: int
    read_at: float


class GuildSettingsService(Generic[S]):
    """`get` a server's settings (cached); `update` them (audited by the caller, invalidated everywhere)."""

    def __init__(
        self,
        repository: GuildSettingsRepository,
        redis: aioredis.Redis | None,
        model: type[S] = GuildSettings,  # type: ignore[assignment]
        *,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self.redis = redis
        self.model = model
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[int, _Entry[S]] = {}
        self.reads = 0  # database reads, for tests and metrics

    async def get(self, guild_id: int) -> S:
        """The server's settings (its defaults if it never set any)."""
        entry = self._cache.get(guild_id)
        if entry is not None and self.clock() - entry.read_at < self.ttl_s:
            return entry.settings
        return (await self._load(guild_id)).settings

    async def update(self, guild_id: int, change: Callable[[S], S], *, by: int | None) -> tuple[S, S]:
        """Apply `change` to the current settings and store the result; (before, after).

        `change` may run more than once: when another write lands between our read and our write,
        the settings are read again and `change` is applied to the newer ones.
        """
        for _ in range(WRITE_RETRIES):
            stored = await self.repository.get(guild_id)
            before = parse_settings(stored.data, self.model)
            after = change(before)
            try:
                written = await self.repository.put(
                    guild_id, after.model_dump(mode="json"), expected_version=stored.version, updated_by=by
                )
            except StaleSettingsError:
                continue
            self._remember(written, after)
            await self._announce(guild_id)
            return before, after
        raise StaleSettingsError(f"guild {guild_id}: settings kept changing; try again")

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached settings of a server (its next `get` reads the database)."""
        self._cache.pop(guild_id, None)

    async def listen(self, stop: asyncio.Event) -> None:
        """Invalidate entries that other processes changed, until `stop` is set (survives Redis restarts)."""
        if self.redis is None:
            return
        while not stop.is_set():
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self._cache.clear()  # whatever changed while we were not subscribed
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._on_message(message.get("data"))
            except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as error:
                log.warning("guild settings channel unavailable (%s); retrying in 1 s", error)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _on_message(self, data: object) -> None:
        try:
            guild_id = int(data.decode() if isinstance(data, bytes) else str(data))
        except ValueError:
            log.warning("ignoring a malformed guild settings message: %r", data)
            return
        self.invalidate(guild_id)

    async def _load(self, guild_id: int) -> _Entry[S]:
        stored = await self.repository.get(guild_id)
        self.reads += 1
        return self._remember(stored, parse_settings(stored.data, self.model))

    def _remember(self, stored: StoredGuildSettings, settings: S) -> _Entry[S]:
        entry = _Entry(settings, stored.version, self.clock())
        current = self._cache.get(stored.guild_id)
        if current is None or current.version <= stored.version:  # never replace newer with older
            self._cache[stored.guild_id] = entry
        return entry

    async def _announce(self, guild_id: int) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.publish(CHANNEL, str(guild_id))
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as error:
            log.warning(
                "could not announce guild %s settings change (%s); others see it within %.0f s",
                guild_id,
                error,
                self.ttl_s,
            )
