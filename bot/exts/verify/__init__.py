"""/verify: was this file made with Atelier? Metadata and the invisible image watermark."""

from discord.ext import commands

__all__ = ["setup"]


async def setup(bot: commands.Bot) -> None:
    """Add the cog (discord.py calls this from load_extension)."""
    from bot.exts.verify.cog import VerifyCog

    await bot.add_cog(VerifyCog())
