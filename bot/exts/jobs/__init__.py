"""/jobs: a member's recent jobs, the status of one, cancelling one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.jobs.cog import JobsCog

    await bot.add_cog(JobsCog(bot.services))
