"""Celery's Redis transport (kombu's), keeping one Redis client per channel.

kombu's Redis channel builds a new `redis.Redis` object for nearly every command it sends: each
message published, each acknowledgement, each record of an unacknowledged message. The object holds
no connection (those come from the channel's pool either way), but building it (its table of
response callbacks) was about a sixth of a worker's CPU per job and a seventh of a send (py-spy,
`python -m bench.pipeline`). This channel builds it once and reuses it; everything else is kombu's.

It is used for `redis://` brokers (`wire.broker.configure`); a `rediss://` broker keeps kombu's own
transport, whose TLS set-up depends on the scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis

NAME = "wire.transport:Transport"


class Channel(kombu_redis.Channel):  # type: ignore[misc]
    """kombu's Redis channel, with its synchronous client built once."""

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._shared_client is None:
            self._shared_client = self._create_client()  # on the channel's own pool, as kombu's is
        yield self._shared_client

    def close(self) -> None:
        self._shared_client = None
        super().close()


class Transport(kombu_redis.Transport):  # type: ignore[misc]
    """kombu's Redis transport with `Channel` above."""

    Channel = Channel
