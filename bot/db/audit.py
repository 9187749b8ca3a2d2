"""The audit log in the database: who changed what on a server, and what the bot refused there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from bot.db.database import Database
from bot.db.models import AuditRow
from wire.contract import utcnow

AUDIT: Table = AuditRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class AuditEntry:
    guild_id: int
    actor_id: int | None
    action: str
    key: str | None = None
    old: Any = None
    new: Any = None
    detail: str | None = None
    created_at: datetime | None = None
    id: int | None = None


class AuditRepository:
    """Append-only: entries are written and read back per server, never changed."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, entry: AuditEntry) -> AuditEntry:
        at = entry.created_at or utcnow()

        def work(connection: Connection) -> int:
            return int(
                connection.execute(
                    insert(AUDIT)
                    .values(
                        guild_id=entry.guild_id,
                        actor_id=entry.actor_id,
                        action=entry.action,
                        key=entry.key,
                        old=entry.old,
                        new=entry.new,
                        detail=entry.detail,
                        created_at=at,
                    )
                    .returning(AUDIT.c.id)
                ).scalar_one()
            )

        entry_id = await self._db.write(work)
        return AuditEntry(**{**entry.__dict__, "created_at": at, "id": entry_id})

    async def recent(self, guild_id: int, limit: int = 20, action: str | None = None) -> list[AuditEntry]:
        """A server's newest entries (only that server's: nothing crosses servers)."""
        statement = select(AUDIT).where(AUDIT.c.guild_id == guild_id)
        if action is not None:
            statement = statement.where(AUDIT.c.action == action)
        statement = statement.order_by(AUDIT.c.id.desc()).limit(limit)

        def work(connection: Connection) -> list[AuditEntry]:
            return [
                AuditEntry(
                    guild_id=row.guild_id,
                    actor_id=row.actor_id,
                    action=row.action,
                    key=row.key,
                    old=row.old,
                    new=row.new,
                    detail=row.detail,
                    created_at=row.created_at,
                    id=row.id,
                )
                for row in connection.execute(statement)
            ]

        return await self._db.write(work)
