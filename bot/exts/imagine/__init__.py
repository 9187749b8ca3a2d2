"""/imagine: pictures from the image model."""

from discord.ext import commands

from bot.exts.imagine.cog import ImagineCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ImagineCog())
