"""Reuse what moderators already set up: the server's Discord AutoMod keyword rules apply to prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Keep every server's AutoMod lists current and hand them to the prompt check."""
    from bot.exts.automod.cog import AutoModCog
    from bot.guilds.automod import AutoModCache

    cache = AutoModCache()
    bot.services.policy.automod = cache
    await bot.add_cog(AutoModCog(cache))
