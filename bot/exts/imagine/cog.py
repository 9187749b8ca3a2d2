"""The /imagine command."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.core.client import Interaction
from bot.core.errors import OptionProblem
from bot.core.services import Services
from bot.exts._shared.attach import with_upload
from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from bot.exts._shared.uploads import IMAGE
from wire.contract import SEED_MAX, ImageOptions, field_bounds, field_default, max_length

SIZES = ("512x512", "768x768", "1024x1024", "512x768", "768x512", "832x1216", "1216x832")
SIZE_CHOICES = [app_commands.Choice(name=size.replace("x", "×"), value=size) for size in SIZES]
PROMPT_MAX = max_length(ImageOptions, "prompt")
NEGATIVE_MAX = max_length(ImageOptions, "negative_prompt")
STEPS_MIN, STEPS_MAX = field_bounds(ImageOptions, "steps")
COUNT_MIN, COUNT_MAX = field_bounds(ImageOptions, "count")
COUNT_DEFAULT: int = field_default(ImageOptions, "count")
NEGATIVE_DEFAULT: str = field_default(ImageOptions, "negative_prompt")
SIZE_DEFAULT = f"{field_default(ImageOptions, 'width')}x{field_default(ImageOptions, 'height')}"


class ImagineCog(commands.Cog):
    """Drawing with the image model."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name=_("imagine"), description=_("Make images from a prompt."))
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=_("What to draw"),
        negative=_("What to keep out of the picture"),
        size=_("Image size"),
        steps=_(f"Denoising steps ({STEPS_MIN}-{STEPS_MAX})"),
        seed=_("Seed for a repeatable result"),
        count=_(f"How many images ({COUNT_MIN}-{COUNT_MAX})"),
        image=_("An image to transform"),
        preset=_("Model preset"),
    )
    @app_commands.choices(size=SIZE_CHOICES)
    @app_commands.autocomplete(preset=preset_autocomplete("image"))
    async def imagine(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX],
        negative: app_commands.Range[str, 0, NEGATIVE_MAX] = NEGATIVE_DEFAULT,
        size: str = SIZE_DEFAULT,
        steps: app_commands.Range[int, STEPS_MIN, STEPS_MAX] | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        count: app_commands.Range[int, COUNT_MIN, COUNT_MAX] = COUNT_DEFAULT,
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
