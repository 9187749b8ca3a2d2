"""The /imagine command."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.exts._shared.attach import with_upload
from bot.exts._shared.errors import OptionProblem
from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from bot.exts._shared.uploads import IMAGE
from wire.contract import MAX_PROMPT_CHARS

SIZES = ("512x512", "768x768", "1024x1024", "512x768", "768x512", "832x1216", "1216x832")
SIZE_CHOICES = [app_commands.Choice(name=size.replace("x", "×"), value=size) for size in SIZES]
SEED_MAX = 2**32 - 1


class ImagineCog(commands.Cog):
    """Drawing with the image model."""

    @app_commands.command(name=_("imagine"), description=_("Make images from a prompt."))
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=_("What to draw"),
        negative=_("What to keep out of the picture"),
        size=_("Image size"),
        steps=_("Denoising steps (1-150)"),
        seed=_("Seed for a repeatable result"),
        count=_("How many images (1-4)"),
        image=_("An image to transform"),
        preset=_("Model preset"),
    )
    @app_commands.choices(size=SIZE_CHOICES)
    @app_commands.autocomplete(preset=preset_autocomplete("image"))
    async def imagine(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        negative: app_commands.Range[str, 0, MAX_PROMPT_CHARS] = "",
        size: str = "512x512",
        steps: app_commands.Range[int, 1, 150] | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        count: app_commands.Range[int, 1, 4] = 1,
        image: discord.Attachment | None = None,
        preset: str | None = None,
    ) -> None:
        """Queue an image job, transforming the member's picture when one is attached."""
        if size not in SIZES:
            raise OptionProblem("size", f"choose one of {', '.join(SIZES)}")
        width, height = (int(side) for side in size.split("x"))
        options = {
            "prompt": prompt,
            "negative_prompt": negative,
            "width": width,
            "height": height,
            "steps": steps,
            "seed": seed,
            "count": count,
        }
        job = job_for(interaction, "image", options, preset=preset)
        job = await with_upload(interaction, job, image, IMAGE, "init_artifact")
        await submit_job(interaction, job)
