"""The /jobs command (answers are private to the member)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.core.checks import owns_or_moderates
from bot.core.client import Interaction
from bot.core.errors import UserFacingError
from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.delivery.describe import COLOURS, clip, describe_job, prompt_of, status_label
from bot.delivery.undeliverable import reason_of
from bot.exts._shared.jobs import CANCEL_REPLIES
from bot.i18n import t

ACTIONS = [app_commands.Choice(name=_(a), value=a) for a in ("list", "status", "cancel")]


def _line(record: JobRecord, locale: str) -> str:
    what = prompt_of(record.job) or describe_job(record.job)
    when = discord.utils.format_dt(record.created_at, "R")
    return (
        f"`{record.id[:8]}` {record.modality} · **{status_label(record, locale)}** · {when}\n{clip(what, 80)}"
    )


class JobsCog(commands.Cog):
    """Looking after one's own jobs."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name=_("jobs"), description=_("Your recent jobs; the status of one; cancel one."))
    @app_commands.guild_only()
    @app_commands.describe(action=_("What to do"), job=_("A job id (from /jobs)"))
    @app_commands.choices(action=ACTIONS)
    async def jobs(self, interaction: Interaction, action: str = "list", job: str | None = None) -> None:
        """List, show or cancel."""
        locale = str(interaction.locale.value)
        if action == "list" or not job:
            records = await self.services.jobs.list_for_user(
                interaction.user.id, limit=10, guild_id=interaction.guild_id
            )
            if not records:
                await interaction.response.send_message(t("no_jobs", locale), ephemeral=True)
                return
            embed = discord.Embed(title=t("jobs_title", locale), colour=0x5865F2)
            embed.description = "\n".join(_line(r, locale) for r in records)
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        record = await self._find(interaction, job.strip())
        if action == "cancel":
            if not owns_or_moderates(interaction, record.user_id, record.guild_id):
                raise UserFacingError("not_yours")
            outcome = await self.services.deliverer.cancel(record.id)
            key = CANCEL_REPLIES.get(outcome, "job_not_found")
            await interaction.response.send_message(t(key, locale, job_id=record.id), ephemeral=True)
            return
        embed = discord.Embed(title=t("job_title", locale, job_id=record.id), colour=COLOURS[record.modality])
        embed.description = _line(record, locale)
        embed.add_field(name="⚙️", value=describe_job(record.job), inline=False)
        if record.is_active:
            embed.add_field(name="⏳", value=f"{record.progress:.0%} {record.progress_message or ''}".strip())
        if record.error:
            embed.add_field(name="⚠️", value=clip(record.error, 500), inline=False)
        undelivered = reason_of(record.delivery_target)
        if undelivered:
            embed.add_field(name="📭", value=t(undelivered, locale), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @jobs.autocomplete("job")
    async def _job_ids(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        records = await self.services.jobs.list_for_user(
            interaction.user.id, limit=25, guild_id=interaction.guild_id
        )
        locale = str(interaction.locale.value)
        return [
            app_commands.Choice(
                name=clip(f"{r.id[:8]} {r.modality} {status_label(r, locale)}", 100), value=r.id
            )
            for r in records
            if r.id.startswith(current.strip().lower())
        ]

    async def _find(self, interaction: Interaction, job: str) -> JobRecord:
        """One of the member's jobs by full id or a unique prefix of at least 6 characters."""
        record = await self.services.jobs.get(job) if len(job) == 32 else None
        if record is None and len(job) >= 6:
            matches = [
                r
                for r in await self.services.jobs.list_for_user(
                    interaction.user.id, limit=50, guild_id=interaction.guild_id
                )
                if r.id.startswith(job)
            ]
            record = matches[0] if len(matches) == 1 else None
        if record is None or not owns_or_moderates(interaction, record.user_id, record.guild_id):
            raise UserFacingError("job_not_found", job_id=job)
        return record
