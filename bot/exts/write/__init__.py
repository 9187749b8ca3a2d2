"""/write: poems, stories, lyrics and ideas from the text model."""

from discord.ext import commands

from bot.exts.write.cog import WriteCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(WriteCog())
