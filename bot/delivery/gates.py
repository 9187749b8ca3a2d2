"""Gates a finished job passes before its result reaches the member: features add them.

A gate looks at a finished job and says `PASS` (deliver it), `HOLD` (the gate has kept it back —
the approval feature posts it for moderators and marks it held — and the member is told it waits),
or `WITHHOLD` with a reason (the member gets that reason instead of the files). The first gate that
does not pass decides. Gates run again when a held job is decided, so a gate passes what it held once
a moderator approved it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.db.jobs import JobRecord
from bot.delivery.target import DiscordTarget

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    PASS = "pass"
    HOLD = "hold"
    WITHHOLD = "withhold"


@dataclass(frozen=True)
class GateDecision:
    verdict: Verdict
    reason: str | None = None
    """For WITHHOLD: the catalog key of what the member is told."""


PASS = GateDecision(Verdict.PASS)
Gate = Callable[[JobRecord, DiscordTarget], Awaitable[GateDecision]]


class DeliveryGates:
    """Gates in order of priority (lower first)."""

    def __init__(self) -> None:
        self._gates: list[tuple[int, int, str, Gate]] = []

    def add(self, name: str, gate: Gate, *, priority: int = 100) -> None:
        self._gates = [g for g in self._gates if g[2] != name]
        self._gates.append((priority, len(self._gates), name, gate))
        self._gates.sort(key=lambda g: (g[0], g[1]))

    def remove(self, name: str) -> None:
        self._gates = [g for g in self._gates if g[2] != name]

    def names(self) -> list[str]:
        return [name for _, _, name, _ in self._gates]

    async def decide(self, record: JobRecord, target: DiscordTarget) -> GateDecision:
        """The first decision that is not PASS (a gate that fails holds nothing back: it is logged)."""
        for _, _, name, gate in self._gates:
            try:
                decision = await gate(record, target)
            except Exception:
                log.exception("delivery gate %s failed for job %s; passing it", name, record.id)
                continue
            if decision.verdict is not Verdict.PASS:
                return decision
        return PASS
