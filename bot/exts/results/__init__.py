"""The buttons on every job message: reroll, variation (images), extend (music), cancel, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Register the buttons (they survive restarts) and put them on job messages."""
    from bot.exts.results.buttons import BUTTONS, add_result_buttons

    bot.add_dynamic_items(*BUTTONS)
    add_result_buttons(bot.services.result_buttons)


async def teardown(bot: AtelierClient) -> None:
    """Take the buttons off job messages again (unloading the extension)."""
    from bot.exts.results.buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
    for name in ("results.cancel", "results.remix", "results.delete"):
        bot.services.result_buttons.remove(name)
