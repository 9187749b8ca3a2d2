"""/write: poems, stories, lyrics and ideas from the text model."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.write.cog import WriteCog

    await bot.add_cog(WriteCog())
