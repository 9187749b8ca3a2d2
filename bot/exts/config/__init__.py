"""/config: moderators shape Atelier for their server (commands, channels, limits, safety, approval)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Add the /config group (discord.py calls this from load_extension)."""
    from bot.exts.config.cog import ConfigGroup

    bot.tree.add_command(ConfigGroup(bot.services))
