"""Posting the outbox: messages decided elsewhere (announcements, reminders) sent by the bot, once.

Features register a sender per kind (`OutboxPoster.senders[kind] = send`); a sender posts (or acts)
and returns the message id. Each item is claimed with a lease, sent with its nonce (`enforce_nonce`:
Discord answers a repeated post with the first one), and marked posted; a failure releases the claim
and it is tried again, up to the repository's attempt limit. The poster wakes when a writer
publishes on the outbox channel, and looks every `interval_s` anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord
import redis.asyncio as aioredis

from bot.db.outbox import OutboxItem, OutboxRepository

log = logging.getLogger(__name__)

CHANNEL = "atelier:outbox"
Sender = Callable[[OutboxItem], Awaitable[int | None]]


class OutboxPoster:
    def __init__(
        self, repository: OutboxRepository, redis: aioredis.Redis | None, *, interval_s: float = 2.0
    ) -> None:
        self.repository = repository
        self.redis = redis
        self.interval_s = interval_s
        self.senders: dict[str, Sender] = {}
        self._wake = asyncio.Event()
        self.posted = 0

    def wake(self) -> None:
        """Post what is pending now (a writer in this process just added something)."""
        self._wake.set()

    async def post_pending(self) -> int:
        """Send every pending item whose kind has a sender; how many were posted."""
        done = 0
        for item in await self.repository.claim():
            sender = self.senders.get(item.kind)
            if sender is None:
                await self.repository.failed(item.id, f"no sender for {item.kind} in this bot")
                continue
            try:
                message_id = await sender(item)
            except discord.HTTPException as error:
                log.warning("outbox item %s (%s) failed: %s", item.id, item.kind, error)
                await self.repository.failed(item.id, str(error))
                continue
            except Exception as error:
                log.exception("outbox item %s (%s) failed", item.id, item.kind)
                await self.repository.failed(item.id, repr(error))
                continue
            await self.repository.posted(item.id, message_id)
            done += 1
        self.posted += done
        return done

    async def run(self, stop: asyncio.Event) -> None:
        listener = asyncio.create_task(self._listen(stop))
        try:
            while not stop.is_set():
                try:
                    await self.post_pending()
                except Exception:
                    log.exception("posting the outbox failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
                self._wake.clear()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener

    async def _listen(self, stop: asyncio.Event) -> None:
        if self.redis is None:
            return
        while not stop.is_set():
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while not stop.is_set():
                    if await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0):
                        self._wake.set()
            except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
