"""The /write command."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from wire.contract import MAX_PROMPT_CHARS, TEXT_KINDS

KINDS = [app_commands.Choice(name=_(kind.replace("_", " ")), value=kind) for kind in TEXT_KINDS]
SEED_MAX = 2**32 - 1


class WriteCog(commands.Cog):
    """Writing with the text model."""

    @app_commands.command(name=_("write"), description=_("Write a poem, story, lyrics or ideas."))
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=_("What it should be about"),
        kind=_("What to write"),
        length=_("Length in tokens (1-2048)"),
        seed=_("Seed for a repeatable result"),
        preset=_("Model preset"),
    )
    @app_commands.choices(kind=KINDS)
    @app_commands.autocomplete(preset=preset_autocomplete("text"))
    async def write(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 2 * MAX_PROMPT_CHARS],
        kind: str = "free",
        length: app_commands.Range[int, 1, 2048] = 160,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        preset: str | None = None,
    ) -> None:
        """Queue a text job."""
        options = {"prompt": prompt, "kind": kind, "max_new_tokens": length, "seed": seed}
        await submit_job(interaction, job_for(interaction, "text", options, preset=preset))
