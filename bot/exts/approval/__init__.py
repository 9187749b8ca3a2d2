"""Approval mode: on servers that turn it on, results wait in a moderators' channel with Approve and
Reject buttons, and reach the member only once approved."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Register the buttons and put the gate in front of delivery."""
    from bot.exts.approval.buttons import BUTTONS
    from bot.exts.approval.gate import ApprovalGate

    bot.add_dynamic_items(*BUTTONS)
    bot.services.deliverer.gates.add("approval", ApprovalGate(bot, bot.services), priority=50)


async def teardown(bot: AtelierClient) -> None:
    from bot.exts.approval.buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
    bot.services.deliverer.gates.remove("approval")
