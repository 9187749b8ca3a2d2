"""Auditing a server: every settings change (who, what, old and new value), every refused prompt,
every refused moderator action, every approval — stored, and posted to the server's audit channel
when it has one. Posts never ping anyone; prompts are quoted as code so nothing in them renders.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import discord

from bot.db.audit import AuditEntry, AuditRepository
from bot.guilds.service import GuildSettingsService
from bot.guilds.settings import GuildSettings

log = logging.getLogger(__name__)

AUDIT_COLOUR = 0xFEE75C
SHOWN_CHARS = 900


class AuditService:
    """Write an entry; post it where the server asked."""

    def __init__(
        self,
        repository: AuditRepository,
        guilds: GuildSettingsService[GuildSettings],
        client: discord.Client | None,
    ) -> None:
        self.repository = repository
        self.guilds = guilds
        self.client = client

    async def record(
        self,
        guild_id: int,
        actor_id: int | None,
        action: str,
        *,
        key: str | None = None,
        old: Any = None,
        new: Any = None,
        detail: str | None = None,
    ) -> AuditEntry:
        """Store the entry, then post it to the audit channel (a failed post is logged, not raised)."""
        entry = await self.repository.add(AuditEntry(guild_id, actor_id, action, key, old, new, detail))
        channel_id = (await self.guilds.get(guild_id)).audit_channel_id
        if channel_id is not None and self.client is not None:
            try:
                channel = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
                await channel.send(embed=audit_embed(entry), allowed_mentions=discord.AllowedMentions.none())
            except discord.HTTPException as error:
                log.warning("could not post audit entry %s to channel %s: %s", entry.id, channel_id, error)
        return entry

    async def recent(self, guild_id: int, limit: int = 20) -> list[AuditEntry]:
        return await self.repository.recent(guild_id, limit)


def audit_embed(entry: AuditEntry) -> discord.Embed:
    """An entry as a message: the action, who, and the values (as code, clipped)."""
    embed = discord.Embed(title=f"Atelier · {entry.action}", colour=AUDIT_COLOUR)
    embed.add_field(name="by", value=f"<@{entry.actor_id}>" if entry.actor_id else "Atelier", inline=True)
    if entry.key:
        embed.add_field(name="setting", value=f"`{entry.key}`", inline=True)
    if entry.old is not None or entry.new is not None:
        embed.add_field(name="before", value=_code(entry.old), inline=False)
        embed.add_field(name="after", value=_code(entry.new), inline=False)
    if entry.detail:
        embed.add_field(name="detail", value=_code(entry.detail), inline=False)
    if entry.created_at is not None:
        embed.timestamp = entry.created_at
    return embed


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("`", "ˋ")
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 1] + "…"
    return f"```\n{text}\n```"
