"""The /write command."""

from __future__ import annotations

from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.core.client import Interaction
from bot.core.services import Services
from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from wire.contract import SEED_MAX, TEXT_KINDS, TextOptions, field_bounds, field_default, max_length

KINDS = [app_commands.Choice(name=_(kind.replace("_", " ")), value=kind) for kind in TEXT_KINDS]
PROMPT_MAX = max_length(TextOptions, "prompt")
LENGTH_MIN, LENGTH_MAX = field_bounds(TextOptions, "max_new_tokens")
LENGTH_DEFAULT: int = field_default(TextOptions, "max_new_tokens")
KIND_DEFAULT: str = field_default(TextOptions, "kind")


class WriteCog(commands.Cog):
    """Writing with the text model."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name=_("write"), description=_("Write a poem, story, lyrics or ideas."))
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=_("What it should be about"),
        kind=_("What to write"),
        length=_(f"Length in tokens ({LENGTH_MIN}-{LENGTH_MAX})"),
        seed=_("Seed for a repeatable result"),
        preset=_("Model preset"),
    )
    @app_commands.choices(kind=KINDS)
    @app_commands.autocomplete(preset=preset_autocomplete("text"))
    async def write(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX],
        kind: str = KIND_DEFAULT,
        length: app_commands.Range[int, LENGTH_MIN, LENGTH_MAX] = LENGTH_DEFAULT,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        preset: str | None = None,
    ) -> None:
        """Queue a text job."""
        options = {"prompt": prompt, "kind": kind, "max_new_tokens": length, "seed": seed}
        await submit_job(interaction, job_for(interaction, "text", options, preset=preset))
