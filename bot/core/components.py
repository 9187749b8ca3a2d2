"""Buttons on job messages, contributed by the features that own them.

Delivery renders a job's message without knowing which buttons exist: it asks `ResultButtons` for
the items of a job in a given phase, and each feature adds a provider in its own `setup()` (the
results feature adds reroll, variation, extend, cancel and delete; challenges, discovery and
moderation will add theirs). Providers must be quick and side-effect free: they run on every render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import discord

from bot.db.jobs import JobRecord
from wire.contract import AnyJob

log = logging.getLogger(__name__)


class Phase(StrEnum):
    """Which message of a job is being drawn."""

    PENDING = "pending"
    """Queued or running: the queued notice and progress edits."""
    SUCCEEDED = "succeeded"
    """The delivered result."""
    UNSUCCESSFUL = "unsuccessful"
    """Failed or cancelled."""


@dataclass(frozen=True)
class ButtonContext:
    """What a provider knows about the message being drawn."""

    job: AnyJob
    phase: Phase
    locale: str
    record: JobRecord | None = None
    """The stored job, once there is one to read (None for the queued notice)."""


Provider = Callable[[ButtonContext], list[discord.ui.Item[Any]]]


class ResultButtons:
    """Providers in order of `priority` (lower first), then in the order they were added."""

    MAX_ITEMS = 25  # five rows of five buttons: Discord's limit for a message

    def __init__(self) -> None:
        self._providers: list[tuple[int, int, str, Provider]] = []

    def add(self, name: str, provider: Provider, *, priority: int = 100) -> None:
        """Add (or replace, by `name`) a provider."""
        self._providers = [p for p in self._providers if p[2] != name]
        self._providers.append((priority, len(self._providers), name, provider))
        self._providers.sort(key=lambda p: (p[0], p[1]))

    def remove(self, name: str) -> None:
        self._providers = [p for p in self._providers if p[2] != name]

    def names(self) -> list[str]:
        return [name for _, _, name, _ in self._providers]

    def view(self, context: ButtonContext) -> discord.ui.View:
        """A persistent view with every provider's items (a failing provider is logged and skipped)."""
        view = discord.ui.View(timeout=None)
        for _, _, name, provider in self._providers:
            try:
                items = provider(context)
            except Exception:
                log.exception("result button provider %s failed for job %s", name, context.job.id)
                continue
            for item in items:
                if len(view.children) >= self.MAX_ITEMS:
                    log.warning(
                        "job %s: more than %d result buttons; %s left out",
                        context.job.id,
                        self.MAX_ITEMS,
                        name,
                    )
                    break
                view.add_item(item)
        return view
