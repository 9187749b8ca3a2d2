"""Where a job's result goes: the Discord interaction that asked for it (stored with the job)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import discord

TOKEN_TTL_S = 15 * 60.0
TOKEN_MARGIN_S = 30.0
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class DiscordTarget:
    """An interaction's reply: edit it via the webhook token while it lives, else post in the channel."""

    application_id: int
    interaction_token: str
    channel_id: int
    guild_id: int | None
    user_id: int
    created_at: float
    locale: str = "en-US"
    attachment_size_limit: int = DEFAULT_SIZE_LIMIT
    age_restricted: bool = False
    """Whether the channel is marked age-restricted (Discord's nsfw flag) where the job was asked."""
    message_id: int | None = None
    kind: str = "discord"

    @classmethod
    def from_interaction(cls, interaction: discord.Interaction[Any]) -> DiscordTarget:
        return cls(
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            channel_id=interaction.channel_id or 0,
            guild_id=interaction.guild_id,
            user_id=interaction.user.id,
            created_at=interaction.created_at.timestamp(),
            locale=str(interaction.locale.value),
            attachment_size_limit=interaction.filesize_limit,
            age_restricted=bool(getattr(interaction.channel, "nsfw", False)),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DiscordTarget | None:
        """The target stored with a job, or None when the job came from elsewhere (the CLI)."""
        if not data or data.get("kind") != "discord":
            return None
        return cls(
            application_id=int(data["application_id"]),
            interaction_token=str(data["interaction_token"]),
            channel_id=int(data["channel_id"]),
            guild_id=int(data["guild_id"]) if data.get("guild_id") else None,
            user_id=int(data["user_id"]),
            created_at=float(data.get("created_at") or 0.0),
            locale=str(data.get("locale") or "en-US"),
            attachment_size_limit=int(data.get("attachment_size_limit") or DEFAULT_SIZE_LIMIT),
            age_restricted=bool(data.get("age_restricted", False)),
            message_id=int(data["message_id"]) if data.get("message_id") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ids as strings: they exceed JavaScript's safe integers)."""
        data = asdict(self)
        for key in ("application_id", "channel_id", "guild_id", "user_id", "message_id"):
            if data[key] is not None:
                data[key] = str(data[key])
        return data

    def token_alive(self, now: float | None = None) -> bool:
        """Whether the interaction token is still (safely) inside Discord's 15 minutes."""
        age = (time.time() if now is None else now) - self.created_at
        return age < TOKEN_TTL_S - TOKEN_MARGIN_S

    def with_message(self, message_id: int) -> DiscordTarget:
        return DiscordTarget(**{**asdict(self), "message_id": message_id})
