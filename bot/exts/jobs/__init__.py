"""/jobs: a member's recent jobs, the status of one, cancelling one."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.jobs.cog import JobsCog

    await bot.add_cog(JobsCog())
