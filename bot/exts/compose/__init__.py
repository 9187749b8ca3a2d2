"""/compose: tunes from the music model (audio preview, MIDI, piano roll)."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.compose.cog import ComposeCog

    await bot.add_cog(ComposeCog())
