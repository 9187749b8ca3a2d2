"""/help: what each command does, with examples."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.help.cog import HelpCog

    await bot.add_cog(HelpCog())
