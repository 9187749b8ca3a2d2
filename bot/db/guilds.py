"""Servers' settings in the database: one versioned JSON document per server.

A write is a compare-and-set on the version the writer read, so two moderators changing settings at
the same moment cannot silently undo each other: the second is told to read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.database import Database
from bot.db.models import GuildSettingsRow
from wire.contract import utcnow

GUILD_SETTINGS: Table = GuildSettingsRow.__table__  # type: ignore[assignment]


class StaleSettingsError(RuntimeError):
    """Someone changed the server's settings since they were read."""


@dataclass(frozen=True)
class StoredGuildSettings:
    """A server's stored document and its version (0: nothing stored yet)."""

    guild_id: int
    data: dict[str, Any]
    version: int
    updated_by: int | None = None
    updated_at: datetime | None = None


class GuildSettingsRepository:
    """Read and write servers' settings documents."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> StoredGuildSettings:
        """The server's document; an empty one at version 0 if it has none."""

        def work(connection: Connection) -> StoredGuildSettings:
            row = connection.execute(
                select(GUILD_SETTINGS).where(GUILD_SETTINGS.c.guild_id == guild_id)
            ).one_or_none()
            if row is None:
                return StoredGuildSettings(guild_id, {}, 0)
            return StoredGuildSettings(guild_id, dict(row.data), row.version, row.updated_by, row.updated_at)

        return await self._db.write(work)

    async def put(
        self, guild_id: int, data: dict[str, Any], *, expected_version: int, updated_by: int | None
    ) -> StoredGuildSettings:
        """Store `data` if the stored version is still `expected_version`; the new document.

        Raises StaleSettingsError when another write came first.
        """
        now = utcnow()

        def work(connection: Connection) -> StoredGuildSettings:
            if expected_version == 0:
                try:
                    connection.execute(
                        insert(GUILD_SETTINGS).values(
                            guild_id=guild_id,
                            data=data,
                            version=1,
                            updated_by=updated_by,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                except IntegrityError:
                    raise StaleSettingsError(f"guild {guild_id}: settings were created meanwhile") from None
                return StoredGuildSettings(guild_id, data, 1, updated_by, now)
            version = connection.execute(
                update(GUILD_SETTINGS)
                .where(GUILD_SETTINGS.c.guild_id == guild_id, GUILD_SETTINGS.c.version == expected_version)
                .values(data=data, version=expected_version + 1, updated_by=updated_by, updated_at=now)
                .returning(GUILD_SETTINGS.c.version)
            ).scalar_one_or_none()
            if version is None:
                raise StaleSettingsError(
                    f"guild {guild_id}: settings changed since version {expected_version}"
                )
            return StoredGuildSettings(guild_id, data, int(version), updated_by, now)

        return await self._db.write(work)

    async def delete(self, guild_id: int) -> bool:
        """Forget a server's settings (it removed the bot); True if there were any."""

        def work(connection: Connection) -> bool:
            deleted = connection.execute(
                GUILD_SETTINGS.delete()
                .where(GUILD_SETTINGS.c.guild_id == guild_id)
                .returning(GUILD_SETTINGS.c.guild_id)
            ).scalar_one_or_none()
            return deleted is not None

        return await self._db.write(work)
