"""Discord-style snowflake ids (time-ordered 64-bit integers)."""

from __future__ import annotations

import itertools
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Hands out unique, increasing snowflakes whose timestamp part is the current time."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker = worker_id & 0x1F
        self._process = process_id & 0x1F
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        """Return a fresh snowflake, strictly greater than the previous one."""
        with self._lock:
            millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (
                (millis << 22) | (self._worker << 17) | (self._process << 12) | (next(self._counter) & 0xFFF)
            )
            self._last = max(candidate, self._last + 1)
            return self._last


def snowflake_time_ms(snowflake: int) -> int:
    """Unix time in milliseconds encoded in a snowflake."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def shard_for_guild(guild_id: int, shard_count: int) -> int:
    """The shard a guild belongs to, by Discord's formula."""
    return (guild_id >> 22) % max(shard_count, 1)
