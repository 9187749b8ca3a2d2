"""The /verify command."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.core.client import Interaction
from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.exts._shared.uploads import PROVENANCE_FILE, check_metadata, fetch_checked
from bot.exts.verify.report import report_embed
from provenance.verify import VerifyReport, verify


class VerifyCog(commands.Cog):
    """Checking where a file came from."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name=_("verify"), description=_("Check whether a file was made with Atelier."))
    @app_commands.guild_only()
    @app_commands.describe(file=_("An image, MIDI, Ogg or text file"))
    async def verify(self, interaction: Interaction, file: discord.Attachment) -> None:
        """Read the file's provenance and show the job behind it."""
        check_metadata(file, PROVENANCE_FILE)
        await interaction.response.defer(thinking=True)
        data = await fetch_checked(file, PROVENANCE_FILE)
        sizes = sorted({tuple(s) for p in self.services.settings.image_presets.values() for s in p.sizes})
        report = await asyncio.to_thread(verify, data, file.filename, sizes)  # type: ignore[arg-type]
        record = await _job_behind(self.services, report)
        locale = str(interaction.locale.value)
        await interaction.followup.send(embed=report_embed(report, record, locale))


async def _job_behind(services: Services, report: VerifyReport) -> JobRecord | None:
    """The stored job a report names: by full id from metadata, else by the watermark's reference."""
    if report.job_id:
        return await services.jobs.get(report.job_id)
    if report.reference:
        matches = await services.jobs.find_by_prefix(report.reference)
        return matches[0] if len(matches) == 1 else None
    return None
