"""/help: what each command does, with examples."""

from discord.ext import commands

from bot.exts.help.cog import HelpCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(HelpCog())
