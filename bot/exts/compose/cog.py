"""The /compose command."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.core.client import Interaction
from bot.core.services import Services
from bot.exts._shared.attach import with_upload
from bot.exts._shared.jobs import job_for
from bot.exts._shared.presets import preset_autocomplete
from bot.exts._shared.submit import submit_job
from bot.exts._shared.uploads import MIDI
from bot.exts.compose.instruments import instrument_choices
from bot.exts.compose.strings import FORM_NAMES
from wire.contract import (
    MUSIC_ACCOMPANIMENTS,
    MUSIC_FORMS,
    MUSIC_KEYS,
    MUSIC_MODES,
    MUSIC_STYLES,
    SEED_MAX,
    MusicOptions,
    field_bounds,
)

STYLES = [app_commands.Choice(name=_(style), value=style) for style in MUSIC_STYLES]
KEYS = [app_commands.Choice(name=key, value=key) for key in MUSIC_KEYS]
MODES = [app_commands.Choice(name=_(mode), value=mode) for mode in MUSIC_MODES]
ACCOMPANIMENTS = [app_commands.Choice(name=_(a), value=a) for a in MUSIC_ACCOMPANIMENTS]
FORMS = [app_commands.Choice(name=_(FORM_NAMES[f]), value=f) for f in MUSIC_FORMS]
TEMPO_MIN, TEMPO_MAX = field_bounds(MusicOptions, "tempo")
BARS_MIN, BARS_MAX = field_bounds(MusicOptions, "bars")
INSTRUMENT_MIN, INSTRUMENT_MAX = field_bounds(MusicOptions, "instrument")
DEFAULTS = MusicOptions()  # every option has a default: the contract's are the command's


async def _instruments(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    return instrument_choices(current)


class ComposeCog(commands.Cog):
    """Composing with the music model."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(
        name=_("compose"), description=_("Compose a tune: audio preview, MIDI and piano roll.")
    )
    @app_commands.guild_only()
    @app_commands.describe(
        style=_("Tune style"),
        key=_("Key (tonic)"),
        mode=_("Mode or scale"),
        tempo=_(f"Tempo in beats per minute ({TEMPO_MIN}-{TEMPO_MAX})"),
        bars=_(f"Length in full bars, repeats written out, upbeat not counted ({BARS_MIN}-{BARS_MAX})"),
        form=_("Form: parts and repeats (default: the style's)"),
        instrument=_(f"General MIDI instrument ({INSTRUMENT_MIN}-{INSTRUMENT_MAX}; 0 is piano)"),
        accompaniment=_("Accompaniment"),
        seed=_("Seed for a repeatable result"),
        midi=_("A MIDI file to continue"),
        preset=_("Model preset"),
    )
    @app_commands.choices(style=STYLES, key=KEYS, mode=MODES, accompaniment=ACCOMPANIMENTS, form=FORMS)
    @app_commands.autocomplete(preset=preset_autocomplete("music"))
    @app_commands.autocomplete(instrument=_instruments)
    async def compose(
        self,
        interaction: Interaction,
        style: str = DEFAULTS.style,
        key: str = DEFAULTS.key,
        mode: str = DEFAULTS.mode,
        tempo: app_commands.Range[int, TEMPO_MIN, TEMPO_MAX] = DEFAULTS.tempo,
        bars: app_commands.Range[int, BARS_MIN, BARS_MAX] = DEFAULTS.bars,
        form: str = DEFAULTS.form,
        instrument: app_commands.Range[int, INSTRUMENT_MIN, INSTRUMENT_MAX] = DEFAULTS.instrument,
        accompaniment: str = DEFAULTS.accompaniment,
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
            "form": form,
            "instrument": instrument,
            "accompaniment": accompaniment,
            "seed": seed,
        }
        job = job_for(interaction, "music", options, preset=preset)
        job = await with_upload(interaction, job, midi, MIDI, "prime_artifact")
        await submit_job(interaction, job)
