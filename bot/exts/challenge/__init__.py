"""/challenge: community challenges — themes, entries from generated work, blind voting, judges, leaderboards."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add /challenge, its buttons, the Submit button on results, and the announcers."""
    from bot.exts.challenge.announce import Announcer
    from bot.exts.challenge.buttons import BUTTONS, submit_buttons
    from bot.exts.challenge.cog import ChallengeGroup
    from bot.exts.challenge.service import ChallengeService

    service = ChallengeService(bot.services)
    await service.load()
    bot.services.extras["challenges"] = service
    bot.tree.add_command(ChallengeGroup(bot.services, service))
    bot.add_dynamic_items(*BUTTONS)
    bot.services.result_buttons.add("challenge.submit", submit_buttons(service), priority=500)
    bot.services.outbox.senders.update(Announcer(bot, service).senders())
