"""/imagine: pictures from the image model."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.imagine.cog import ImagineCog

    await bot.add_cog(ImagineCog())
