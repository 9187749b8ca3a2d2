"""The /verify command."""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.db.jobs import JobRecord
from bot.exts._shared.errors import UserFacingError
from bot.exts.verify.report import report_embed
from provenance.verify import VerifyReport, verify

if TYPE_CHECKING:
    from bot.app import AtelierBot

MAX_BYTES = 25 * 1024 * 1024
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".mid", ".midi", ".ogg", ".oga", ".txt", ".md")
EXPECTED = "a PNG, JPEG or WebP image, a MIDI or Ogg file, or a text file"


class VerifyCog(commands.Cog):
    """Checking where a file came from."""

    @app_commands.command(name=_("verify"), description=_("Check whether a file was made with Atelier."))
    @app_commands.guild_only()
    @app_commands.describe(file=_("An image, MIDI, Ogg or text file"))
    async def verify(self, interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
        """Read the file's provenance and show the job behind it."""
        bot: AtelierBot = interaction.client  # type: ignore[assignment]
        if PurePath(file.filename).suffix.lower() not in EXTENSIONS:
            raise UserFacingError("attachment_type", option="file", expected=EXPECTED, filename=file.filename)
        if file.size > MAX_BYTES:
            raise UserFacingError(
                "attachment_size", option="file", size=f"{file.size / 2**20:.1f} MiB", limit="25 MiB"
            )
        await interaction.response.defer(thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as error:
            raise UserFacingError("attachment_download", filename=file.filename) from error
        sizes = sorted({tuple(s) for p in bot.settings.image_presets.values() for s in p.sizes})
        report = await asyncio.to_thread(verify, data, file.filename, sizes)  # type: ignore[arg-type]
        record = await _job_behind(bot, report)
        locale = str(interaction.locale.value)
        await interaction.followup.send(embed=report_embed(report, record, locale))


async def _job_behind(bot: AtelierBot, report: VerifyReport) -> JobRecord | None:
    """The stored job a report names: by full id from metadata, else by the watermark's reference."""
    if report.job_id:
        return await bot.runtime.jobs.get(report.job_id)
    if report.reference:
        matches = await bot.runtime.jobs.find_by_prefix(report.reference)
        return matches[0] if len(matches) == 1 else None
    return None
