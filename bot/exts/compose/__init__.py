"""/compose: tunes from the music model (audio preview, MIDI, piano roll)."""

from discord.ext import commands

from bot.exts.compose.cog import ComposeCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ComposeCog())
