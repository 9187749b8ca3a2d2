"""Interactions the sandbox has sent, and the timing rules for answering them."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import http_utils as codes
from bot.sandbox.rules import SandboxRules

JSON = dict[str, Any]

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

# Interaction callback types.
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9
LAUNCH_ACTIVITY = 12


@dataclass(frozen=True)
class Rejection:
    """An error the sandbox returned for an interaction (e.g. 10062 after the 3 s window)."""

    status: int
    code: int
    message: str


@dataclass(eq=False)
class InteractionHandle:
    """One interaction sent to the bot, and what the bot did with it."""

    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    created_at: float
    payload: JSON
    response_type: int | None = None
    response_data: JSON | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    _responded: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def responded(self) -> bool:
        return self.response_type is not None

    async def wait_responded(self, timeout: float) -> None:
        await asyncio.wait_for(self._responded.wait(), timeout)

    def mark_responded(self, response_type: int, data: JSON | None) -> None:
        self.response_type = response_type
        self.response_data = data
        self._responded.set()


def new_token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


class InteractionRegistry:
    """Finds interactions by id or token and applies Discord's timing rules."""

    def __init__(self, rules: SandboxRules) -> None:
        self.rules = rules
        self._by_id: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}

    def add(self, handle: InteractionHandle) -> InteractionHandle:
        self._by_id[handle.id] = handle
        self._by_token[handle.token] = handle
        return handle

    def all(self) -> list[InteractionHandle]:
        return list(self._by_id.values())

    def get(self, interaction_id: int) -> InteractionHandle | None:
        return self._by_id.get(interaction_id)

    def for_callback(self, interaction_id: int, token: str) -> InteractionHandle | Rejection:
        """The interaction an initial response targets, or why Discord would refuse it."""
        handle = self._by_id.get(interaction_id)
        if handle is None or handle.token != token:
            return Rejection(404, codes.UNKNOWN_INTERACTION, "Unknown interaction")
        if handle.responded:
            rejection = Rejection(
                400, codes.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        elif self.rules.clock() - handle.created_at > self.rules.response_window:
            rejection = Rejection(404, codes.UNKNOWN_INTERACTION, "Unknown interaction")
        else:
            return handle
        handle.rejections.append(rejection)
        return rejection

    def for_webhook(self, application_id: int, token: str, application: int) -> InteractionHandle | Rejection:
        """The interaction a followup/@original request targets, or why Discord would refuse it."""
        handle = self._by_token.get(token)
        if handle is None or application_id != application:
            return Rejection(401, codes.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        if self.rules.clock() - handle.created_at > self.rules.token_ttl:
            rejection = Rejection(401, codes.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        elif not handle.responded:
            rejection = Rejection(404, codes.UNKNOWN_WEBHOOK, "Unknown Webhook")
        else:
            return handle
        handle.rejections.append(rejection)
        return rejection
