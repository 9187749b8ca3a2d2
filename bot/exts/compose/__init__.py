"""/compose: tunes from the music model (audio preview, MIDI, piano roll)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.compose.cog import ComposeCog

    await bot.add_cog(ComposeCog(bot.services))
