"""The /compose command."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.exts._shared.attach import with_upload
from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from bot.exts._shared.uploads import MIDI
from bot.exts.compose.instruments import instrument_choices
from wire.contract import MUSIC_KEYS, MUSIC_MODES, MUSIC_STYLES

STYLES = [app_commands.Choice(name=_(style), value=style) for style in MUSIC_STYLES]
KEYS = [app_commands.Choice(name=key, value=key) for key in MUSIC_KEYS]
MODES = [app_commands.Choice(name=_(mode), value=mode) for mode in MUSIC_MODES]
ACCOMPANIMENTS = [app_commands.Choice(name=_(a), value=a) for a in ("none", "chords", "bass")]
SEED_MAX = 2**32 - 1


async def _instruments(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[int]]:
    return instrument_choices(current)


class ComposeCog(commands.Cog):
    """Composing with the music model."""

    @app_commands.command(
        name=_("compose"), description=_("Compose a tune: audio preview, MIDI and piano roll.")
    )
    @app_commands.guild_only()
    @app_commands.describe(
        style=_("Tune style"),
        key=_("Key (tonic)"),
        mode=_("Mode or scale"),
        tempo=_("Tempo in beats per minute (30-300)"),
        bars=_("Length in bars (4-64)"),
        instrument=_("General MIDI instrument (0-127; 0 is piano)"),
        accompaniment=_("Accompaniment"),
        seed=_("Seed for a repeatable result"),
        midi=_("A MIDI file to continue"),
        preset=_("Model preset"),
    )
    @app_commands.choices(style=STYLES, key=KEYS, mode=MODES, accompaniment=ACCOMPANIMENTS)
    @app_commands.autocomplete(preset=preset_autocomplete("music"))
    @app_commands.autocomplete(instrument=_instruments)
    async def compose(
        self,
        interaction: discord.Interaction[Any],
        style: str = "reel",
        key: str = "D",
        mode: str = "major",
        tempo: app_commands.Range[int, 30, 300] = 120,
        bars: app_commands.Range[int, 4, 64] = 16,
        instrument: app_commands.Range[int, 0, 127] = 0,
        accompaniment: str = "none",
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        midi: discord.Attachment | None = None,
        preset: str | None = None,
    ) -> None:
        """Queue a music job, continuing the member's MIDI when one is attached."""
        options = {
            "style": style,
            "key": key,
            "mode": mode,
            "tempo": tempo,
            "bars": bars,
            "instrument": instrument,
            "accompaniment": accompaniment,
            "seed": seed,
        }
        job = job_for(interaction, "music", options, preset=preset)
        job = await with_upload(interaction, job, midi, MIDI, "prime_artifact")
        await submit_job(interaction, job)
