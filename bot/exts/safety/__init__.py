"""Output safety: generated text passes the same check as prompts, and an image the worker's checker
flagged is not posted outside an age-restricted channel, before anything reaches the member."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Put the output check in front of delivery (after approval: a moderator's decision stands)."""
    from bot.exts.safety.gate import OutputSafetyGate

    bot.services.deliverer.gates.add("output-safety", OutputSafetyGate(bot.services), priority=60)


async def teardown(bot: AtelierClient) -> None:
    bot.services.deliverer.gates.remove("output-safety")
