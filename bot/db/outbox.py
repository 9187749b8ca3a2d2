"""The outbox: messages the bot must post exactly once, written by whoever decided them.

A timer in the scheduler decides that voting opens; it cannot post (it holds no Discord connection),
so it writes the announcement here, keyed by what it is about ("challenge:42:voting"). The bot
claims pending messages with a lease, posts each with a nonce made from its id (Discord answers a
repeated post with the first one), and marks it posted. Writing the same key twice stores one row,
so a timer that fires twice announces once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.database import Database
from bot.db.models import OutboxRow
from wire.contract import utcnow

OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    guild_id: int | None
    channel_id: int | None
    user_id: int | None
    attempts: int
    created_at: datetime

    @property
    def nonce(self) -> str:
        """The post's nonce: the same on every try (Discord's limit is 25 characters)."""
        return f"ob{self.id}"[:25]


class OutboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        key: str,
        kind: str,
        payload: dict[str, Any],
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
    ) -> bool:
        """Write a message to post; False if one with this key was written before."""
        if (channel_id is None) == (user_id is None):
            raise ValueError("an outbox message goes to a channel or to a member, not both")
        values = {
            "key": key,
            "kind": kind,
            "payload": payload,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "created_at": utcnow(),
            "attempts": 0,
        }
        try:
            await self._db.write(lambda connection: connection.execute(insert(OUTBOX).values(**values)))
        except IntegrityError:
            return False
        return True

    async def claim(self, limit: int = 20, lease_s: float = 120.0) -> list[OutboxItem]:
        """Pending messages, oldest first, claimed for `lease_s` (a poster that dies leaves them to
        another once the lease lapses); messages that failed too often are left alone."""
        now = utcnow()
        free = or_(OUTBOX.c.claimed_at.is_(None), OUTBOX.c.claimed_at < now - timedelta(seconds=lease_s))
        pending = and_(OUTBOX.c.posted_at.is_(None), OUTBOX.c.attempts < MAX_ATTEMPTS, free)

        def work(connection: Connection) -> list[OutboxItem]:
            ids = [
                row.id
                for row in connection.execute(
                    select(OUTBOX.c.id).where(pending).order_by(OUTBOX.c.id).limit(limit)
                )
            ]
            items = []
            for item_id in ids:
                row = connection.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == item_id, pending)
                    .values(claimed_at=now, attempts=OUTBOX.c.attempts + 1)
                    .returning(*OUTBOX.c)
                ).one_or_none()
                if row is not None:
                    items.append(_item(row))
            return items

        return await self._db.write(work)

    async def posted(self, item_id: int, message_id: int | None) -> None:
        now = utcnow()
        await self._db.write(
            lambda connection: connection.execute(
                update(OUTBOX).where(OUTBOX.c.id == item_id).values(posted_at=now, message_id=message_id)
            )
        )

    async def failed(self, item_id: int, error: str) -> None:
        """Sending failed: release the claim so it is tried again (until MAX_ATTEMPTS)."""
        await self._db.write(
            lambda connection: connection.execute(
                update(OUTBOX).where(OUTBOX.c.id == item_id).values(claimed_at=None, error=error[:1000])
            )
        )

    async def get(self, key: str) -> dict[str, Any] | None:
        """A message's row by key (posted or not), for tests and tools."""

        def work(connection: Connection) -> dict[str, Any] | None:
            row = connection.execute(select(OUTBOX).where(OUTBOX.c.key == key)).one_or_none()
            return dict(row._mapping) if row is not None else None

        return await self._db.write(work)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        key=row.key,
        kind=row.kind,
        payload=dict(row.payload),
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        user_id=row.user_id,
        attempts=row.attempts,
        created_at=row.created_at,
    )
