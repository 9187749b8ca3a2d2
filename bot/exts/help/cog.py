"""The /help command: one embed per command, with examples."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.delivery.describe import COLOURS
from bot.i18n import t

EXAMPLES: dict[str, tuple[str, ...]] = {
    "write": (
        "/write prompt:rain on a tin roof kind:poem",
        "/write prompt:a lighthouse keeper's last night kind:story length:600",
    ),
    "compose": (
        "/compose style:jig key:D mode:dorian",
        "/compose style:waltz tempo:90 bars:32 accompaniment:chords",
    ),
    "imagine": (
        "/imagine prompt:a fox in a snowy forest, watercolour",
        "/imagine prompt:neon city at night count:4 seed:7",
    ),
    "jobs": ("/jobs", "/jobs action:status job:1a2b3c4d", "/jobs action:cancel job:1a2b3c4d"),
    "verify": ("/verify file:<an image, MIDI, Ogg or text file>",),
}
COLOUR_OF = {"write": "text", "compose": "music", "imagine": "image", "jobs": "text", "verify": "image"}


def help_embeds(locale: str) -> list[discord.Embed]:
    """An embed per command in the member's language; the first carries the title, the last the footer."""
    embeds = []
    for name, examples in EXAMPLES.items():
        embed = discord.Embed(
            title=f"/{name}", description=t(f"help.{name}", locale), colour=COLOURS[COLOUR_OF[name]]
        )
        embed.add_field(
            name=t("help.examples", locale), value="\n".join(f"`{e}`" for e in examples), inline=False
        )
        embeds.append(embed)
    embeds[0].set_author(name=t("help.title", locale))
    embeds[-1].set_footer(text=t("help.footer", locale))
    return embeds


class HelpCog(commands.Cog):
    """Explaining the bot."""

    @app_commands.command(name=_("help"), description=_("What each command does, with examples."))
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """Show the help embeds privately."""
        await interaction.response.send_message(
            embeds=help_embeds(str(interaction.locale.value)), ephemeral=True
        )
