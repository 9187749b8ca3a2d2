"""/jobs: a member's recent jobs, the status of one, cancelling one."""

from discord.ext import commands

from bot.exts.jobs.cog import JobsCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(JobsCog())
