"""/help: what each command does, with examples."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.help.cog import HelpCog

    await bot.add_cog(HelpCog())
