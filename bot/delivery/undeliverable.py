"""Discord answers that end a delivery for good: the channel is gone or closed to the bot.

Retrying cannot help with these, so the job's delivery ends with the reason recorded in its row
(`delivery_target["undeliverable"]`), which `/jobs` shows the member; other errors are retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord

from bot.i18n import add_strings

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
FINAL_CODES = {
    UNKNOWN_CHANNEL: "undeliverable.unknown_channel",
    MISSING_ACCESS: "undeliverable.missing_access",
    MISSING_PERMISSIONS: "undeliverable.missing_permissions",
}
"""Codes on a channel post that mean no later try can succeed, and the message key explaining each."""

add_strings(
    messages={
        "en": {
            "undeliverable.unknown_channel": "Not delivered: the channel it was made in no longer exists.",
            "undeliverable.missing_access": "Not delivered: I can no longer see the channel it was made in.",
            "undeliverable.missing_permissions": "Not delivered: I may no longer post in the channel it was made in.",
        },
        "zh-CN": {
            "undeliverable.unknown_channel": "未送达：创建它的频道已不存在。",
            "undeliverable.missing_access": "未送达：我已无法查看创建它的频道。",
            "undeliverable.missing_permissions": "未送达：我已无权在创建它的频道发言。",
        },
    }
)


@dataclass(frozen=True)
class Undeliverable(Exception):
    """Discord refused the result in a way no retry can change."""

    status: int
    code: int
    message: str

    @property
    def reason_key(self) -> str:
        return FINAL_CODES[self.code]

    def record(self) -> dict[str, Any]:
        """What the job's row keeps about it."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "reason": self.reason_key,
            "at": datetime.now(UTC).isoformat(),
        }


def final(error: discord.HTTPException) -> Undeliverable | None:
    """The error as an `Undeliverable`, if it is one of the final answers; else None."""
    if error.code in FINAL_CODES and error.status in (403, 404):
        return Undeliverable(error.status, error.code, error.text or "")
    return None


def reason_of(delivery_target: dict[str, Any] | None) -> str | None:
    """The message key of why a job's delivery ended undelivered, or None."""
    entry = (delivery_target or {}).get("undeliverable")
    return str(entry["reason"]) if isinstance(entry, dict) and "reason" in entry else None
