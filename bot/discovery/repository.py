"""Discovery's tables: items, members' signals, opt-outs (SQLAlchemy Core units of work).

Rules kept here, in the transaction that writes: a signal is stored only for an item of the same
server and a member who has not opted out; opting out deletes every signal of the member, and
removing an item deletes every signal on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.database import Database
from bot.db.models import DiscoveryItemRow, DiscoveryOptOutRow, DiscoverySignalRow
from wire.contract import utcnow

ITEMS: Table = DiscoveryItemRow.__table__  # type: ignore[assignment]
SIGNALS: Table = DiscoverySignalRow.__table__  # type: ignore[assignment]
OPTOUTS: Table = DiscoveryOptOutRow.__table__  # type: ignore[assignment]

PAGE = 5000
"""Rows read per unit when a server's catalogue is loaded (the event loop breathes between)."""


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def decode_vector(data: bytes | None) -> np.ndarray | None:
    if not data:
        return None
    return np.frombuffer(data, dtype="<f2").astype(np.float32)


@dataclass(frozen=True)
class NewItem:
    id: str
    guild_id: int
    creator_id: int
    modality: str
    prompt: str
    kind: str = "result"
    tags: tuple[str, ...] = ()
    nsfw: bool = False
    channel_id: int | None = None
    message_id: int | None = None
    job_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class ItemRecord:
    id: str
    guild_id: int
    creator_id: int
    kind: str
    modality: str
    prompt: str
    tags: tuple[str, ...]
    nsfw: bool
    channel_id: int | None
    message_id: int | None
    job_id: str | None
    created_at: datetime
    embedding: np.ndarray | None
    embedding_model: str | None


@dataclass(frozen=True)
class SignalRecord:
    guild_id: int
    member_id: int
    item_id: str
    event: str
    created_at: datetime


def _item(row: object) -> ItemRecord:
    r = row  # a Row with the items table's columns
    return ItemRecord(
        id=r.id,  # type: ignore[attr-defined]
        guild_id=r.guild_id,  # type: ignore[attr-defined]
        creator_id=r.creator_id,  # type: ignore[attr-defined]
        kind=r.kind,  # type: ignore[attr-defined]
        modality=r.modality,  # type: ignore[attr-defined]
        prompt=r.prompt,  # type: ignore[attr-defined]
        tags=tuple(r.tags or ()),  # type: ignore[attr-defined]
        nsfw=bool(r.nsfw),  # type: ignore[attr-defined]
        channel_id=r.channel_id,  # type: ignore[attr-defined]
        message_id=r.message_id,  # type: ignore[attr-defined]
        job_id=r.job_id,  # type: ignore[attr-defined]
        created_at=r.created_at,  # type: ignore[attr-defined]
        embedding=decode_vector(r.embedding),  # type: ignore[attr-defined]
        embedding_model=r.embedding_model,  # type: ignore[attr-defined]
    )


class DiscoveryRepository:
    """Items, signals and opt-outs of every server (each read names its server)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # --- items -----------------------------------------------------------------------------

    async def add_item(self, item: NewItem) -> bool:
        """Store an item; False if it was already stored (adding twice changes nothing)."""

        def work(connection: Connection) -> bool:
            if connection.execute(select(ITEMS.c.id).where(ITEMS.c.id == item.id)).first() is not None:
                return False
            connection.execute(
                insert(ITEMS).values(
                    id=item.id,
                    guild_id=item.guild_id,
                    creator_id=item.creator_id,
                    kind=item.kind,
                    modality=item.modality,
                    prompt=item.prompt,
                    tags=list(item.tags),
                    nsfw=item.nsfw,
                    channel_id=item.channel_id,
                    message_id=item.message_id,
                    job_id=item.job_id,
                    created_at=item.created_at,
                )
            )
            return True

        try:
            return await self._db.write(work)
        except IntegrityError:  # another process stored it meanwhile
            return False

    async def item(self, item_id: str) -> ItemRecord | None:
        def work(connection: Connection) -> ItemRecord | None:
            row = connection.execute(select(ITEMS).where(ITEMS.c.id == item_id)).one_or_none()
            return _item(row) if row is not None else None

        return await self._db.write(work)

    async def item_by_message(self, guild_id: int, message_id: int) -> ItemRecord | None:
        def work(connection: Connection) -> ItemRecord | None:
            row = connection.execute(
                select(ITEMS).where(ITEMS.c.message_id == message_id, ITEMS.c.guild_id == guild_id).limit(1)
            ).one_or_none()
            return _item(row) if row is not None else None

        return await self._db.write(work)

    async def remove_item(self, item_id: str) -> ItemRecord | None:
        """Delete an item and every signal on it; the item as it was, or None if unknown."""

        def work(connection: Connection) -> ItemRecord | None:
            row = connection.execute(select(ITEMS).where(ITEMS.c.id == item_id)).one_or_none()
            if row is None:
                return None
            connection.execute(delete(SIGNALS).where(SIGNALS.c.item_id == item_id))
            connection.execute(delete(ITEMS).where(ITEMS.c.id == item_id))
            return _item(row)

        return await self._db.write(work)

    async def set_embeddings(self, model: str, vectors: Sequence[tuple[str, np.ndarray]]) -> list[str]:
        """Store embeddings; the ids of the items that exist (a removed item's vector is dropped)."""

        def work(connection: Connection) -> list[str]:
            stored = []
            for item_id, vector in vectors:
                result = connection.execute(
                    update(ITEMS)
                    .where(ITEMS.c.id == item_id)
                    .values(embedding=encode_vector(vector), embedding_model=model)
                )
                if result.rowcount:
                    stored.append(item_id)
            return stored

        return await self._db.write(work)

    async def mark_embed_requested(self, item_ids: Sequence[str], at: datetime | None = None) -> None:
        when = at or utcnow()

        def work(connection: Connection) -> None:
            connection.execute(
                update(ITEMS).where(ITEMS.c.id.in_(list(item_ids))).values(embed_requested_at=when)
            )

        if item_ids:
            await self._db.write(work)

    async def needing_embeddings(self, requested_before: datetime, limit: int = 256) -> list[ItemRecord]:
        """Items without an embedding whose request is older than `requested_before` (or never made)."""

        def work(connection: Connection) -> list[ItemRecord]:
            rows = connection.execute(
                select(ITEMS)
                .where(
                    ITEMS.c.embedding.is_(None),
                    (ITEMS.c.embed_requested_at.is_(None)) | (ITEMS.c.embed_requested_at < requested_before),
                )
                .order_by(ITEMS.c.created_at)
                .limit(limit)
            )
            return [_item(r) for r in rows]

        return await self._db.write(work)

    async def guild_items(self, guild_id: int) -> list[ItemRecord]:
        """A server's items, oldest first, read a page per unit of work."""
        out: list[ItemRecord] = []
        after: tuple[datetime, str] | None = None
        while True:
            statement = select(ITEMS).where(ITEMS.c.guild_id == guild_id)
            if after is not None:
                statement = statement.where(
                    (ITEMS.c.created_at > after[0])
                    | ((ITEMS.c.created_at == after[0]) & (ITEMS.c.id > after[1]))
                )
            statement = statement.order_by(ITEMS.c.created_at, ITEMS.c.id).limit(PAGE)

            def work(connection: Connection, statement: object = statement) -> list[ItemRecord]:
                return [_item(r) for r in connection.execute(statement)]  # type: ignore[call-overload]

            page = await self._db.write(work)
            out += page
            if len(page) < PAGE:
                return out
            after = (page[-1].created_at, page[-1].id)

    # --- signals ---------------------------------------------------------------------------

    async def add_signal(
        self, guild_id: int, member_id: int, item_id: str, event: str, at: datetime | None = None
    ) -> bool:
        """Store a signal; False (nothing stored) if the member opted out or the item is not this
        server's."""
        when = at or utcnow()

        def work(connection: Connection) -> bool:
            if connection.execute(
                select(OPTOUTS.c.member_id).where(OPTOUTS.c.member_id == member_id)
            ).first():
                return False
            owner = connection.execute(
                select(ITEMS.c.guild_id).where(ITEMS.c.id == item_id)
            ).scalar_one_or_none()
            if owner is None or owner != guild_id:
                return False
            connection.execute(
                insert(SIGNALS).values(
                    guild_id=guild_id, member_id=member_id, item_id=item_id, event=event[:24], created_at=when
                )
            )
            return True

        return await self._db.write(work)

    async def guild_signals(self, guild_id: int) -> list[SignalRecord]:
        """A server's signals in the order they were given, a page per unit of work."""
        out: list[SignalRecord] = []
        after = 0
        while True:
            statement = (
                select(SIGNALS)
                .where(SIGNALS.c.guild_id == guild_id, SIGNALS.c.id > after)
                .order_by(SIGNALS.c.id)
                .limit(PAGE)
            )

            def work(connection: Connection, statement: object = statement) -> list[tuple[int, SignalRecord]]:
                return [
                    (r.id, SignalRecord(r.guild_id, r.member_id, r.item_id, r.event, r.created_at))
                    for r in connection.execute(statement)  # type: ignore[call-overload]
                ]

            page = await self._db.write(work)
            out += [s for _, s in page]
            if len(page) < PAGE:
                return out
            after = page[-1][0]

    async def member_signals(self, member_id: int) -> int:
        """How many signals of the member are stored (on every server)."""

        def work(connection: Connection) -> int:
            return int(
                connection.execute(
                    select(func.count()).select_from(SIGNALS).where(SIGNALS.c.member_id == member_id)
                ).scalar_one()
            )

        return await self._db.write(work)

    # --- opting out ------------------------------------------------------------------------

    async def opt_out(self, member_id: int) -> int:
        """Opt a member out everywhere and delete their signals; how many were deleted."""

        def work(connection: Connection) -> int:
            deleted = (
                connection.execute(delete(SIGNALS).where(SIGNALS.c.member_id == member_id)).rowcount or 0
            )
            if (
                connection.execute(
                    select(OPTOUTS.c.member_id).where(OPTOUTS.c.member_id == member_id)
                ).first()
                is None
            ):
                connection.execute(insert(OPTOUTS).values(member_id=member_id, created_at=utcnow()))
            return int(deleted)

        return await self._db.write(work)

    async def opt_in(self, member_id: int) -> bool:
        def work(connection: Connection) -> bool:
            return bool(connection.execute(delete(OPTOUTS).where(OPTOUTS.c.member_id == member_id)).rowcount)

        return await self._db.write(work)

    async def opted_out(self) -> set[int]:
        def work(connection: Connection) -> set[int]:
            return {int(m) for m in connection.execute(select(OPTOUTS.c.member_id)).scalars()}

        return await self._db.write(work)
