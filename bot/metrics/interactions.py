"""Interactions as they arrive, and how long each waited for the bot's first response.

The wait is what Discord holds the bot to: from the interaction's creation (the time in its
snowflake id) until Discord accepted the first response (a defer, a message, a modal), read from
the end of the `POST /interactions/{id}/{token}/callback` request through aiohttp's tracing.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord

from bot.metrics import families

DISCORD_EPOCH_MS = 1_420_070_400_000
KEPT = 4096  # interactions remembered until their first response (the oldest are forgotten)
CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback$")
WORD = re.compile(r"^[a-z][a-z_]{0,23}$")
TYPE_NAMES = {
    discord.InteractionType.application_command: "command",
    discord.InteractionType.component: "component",
    discord.InteractionType.modal_submit: "modal",
    discord.InteractionType.autocomplete: "autocomplete",
    discord.InteractionType.ping: "ping",
}


def created_at_s(snowflake: int) -> float:
    """Unix time in seconds encoded in a Discord snowflake."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def callback_interaction(url: Any) -> int | None:
    """The interaction id of an interaction-callback request's URL, or None for any other request."""
    match = CALLBACK.search(str(getattr(url, "path", url)))
    return int(match.group(1)) if match else None


def custom_id_family(custom_id: str) -> str:
    """A button's or modal's family from its custom id (`chal:vote:12:3:0` → `chal:vote`): the
    leading word segments only, so the label never carries an id."""
    words = []
    for part in custom_id.split(":")[:2]:
        if not WORD.match(part):
            break
        words.append(part)
    return ":".join(words) or "other"


def interaction_name(interaction: discord.Interaction[Any]) -> str:
    """The command's qualified name (commands, autocomplete), or the component's family."""
    data: Any = interaction.data or {}
    if interaction.type in (discord.InteractionType.component, discord.InteractionType.modal_submit):
        return custom_id_family(str(data.get("custom_id", "")))
    try:
        command = interaction.command
    except Exception:  # a payload the tree cannot resolve
        command = None
    return command.qualified_name if command is not None else "unknown"


class InteractionMetrics:
    """Counts interactions (`on_interaction`) and times their first response (`trace`, handed to
    the client as its `http_trace`)."""

    def __init__(self) -> None:
        self._types: OrderedDict[int, str] = OrderedDict()
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._request_ended)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        kind = TYPE_NAMES.get(interaction.type, "other")
        families.INTERACTIONS.labels(kind, interaction_name(interaction)).inc()
        self._types[interaction.id] = kind
        while len(self._types) > KEPT:
            self._types.popitem(last=False)

    async def _request_ended(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        interaction_id = callback_interaction(params.url)
        if interaction_id is None:
            return
        kind = self._types.pop(interaction_id, "unknown")
        if params.response.status >= 400:
            families.RESPONSE_FAILURES.labels(kind).inc()
            return
        families.DEFER_SECONDS.labels(kind).observe(max(time.time() - created_at_s(interaction_id), 0.0))
