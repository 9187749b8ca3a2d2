"""/write: poems, stories, lyrics and ideas from the text model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.write.cog import WriteCog

    await bot.add_cog(WriteCog(bot.services))
