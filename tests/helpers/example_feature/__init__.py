"""An example feature, written as a newcomer would add one, all in this one folder:

- `/tidy`, a moderators' command (`require_permissions`: hidden from members by Discord, refused on
  our side when a crafted interaction gets through anyway), answered with a button of its own;
- a ⭐ button on every finished job message, placed between the remix buttons and delete.

Nothing outside this folder changes to add it; tests load it with `create_bot(extensions=...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the cog, register the buttons, put the star on job messages."""
    from tests.helpers.example_feature.cog import StarButton, TidyButton, TidyCog, star_button

    await bot.add_cog(TidyCog(bot.services))
    bot.add_dynamic_items(TidyButton, StarButton)
    bot.services.result_buttons.add("example.star", star_button, priority=500)
