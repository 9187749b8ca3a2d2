"""Turning a provenance report (and the job it points to) into an embed."""

from __future__ import annotations

import discord

from bot.db.jobs import JobRecord
from bot.delivery.describe import clip, describe_job, prompt_of
from bot.i18n import t
from provenance.verify import VerifyReport

FOUND_COLOUR = 0x2ECC71
NOT_FOUND_COLOUR = 0x95A5A6


def report_embed(report: VerifyReport, record: JobRecord | None, locale: str) -> discord.Embed:
    """What a member reads after /verify: the verdict, how it was found, and the job behind it."""
    if not report.from_atelier:
        embed = discord.Embed(
            title=t("verify.none", locale, filename=report.filename or "?"), colour=NOT_FOUND_COLOUR
        )
        if report.notes:
            embed.description = clip("\n".join(report.notes), 1000)
        return embed
    embed = discord.Embed(
        title=t("verify.found", locale, filename=report.filename or "?"), colour=FOUND_COLOUR
    )
    embed.description = t(f"verify.by.{report.found_by}", locale)
    job_id = report.job_id or (record.id if record else None)
    embed.add_field(name=t("verify.job", locale), value=f"`{job_id or report.reference}`", inline=True)
    if report.model:
        embed.add_field(name=t("verify.model", locale), value=clip(report.model, 200), inline=True)
    if report.seed is not None:
        embed.add_field(name=t("verify.seed", locale), value=str(report.seed), inline=True)
    embed.add_field(name=t("verify.watermark", locale), value=report.watermark, inline=True)
    if record is not None:
        made = discord.utils.format_dt(record.created_at, "f")
        who = f"<@{record.user_id}>" if record.user_id else "—"
        embed.add_field(name=t("verify.made", locale), value=f"{who} · {made}", inline=False)
        what = prompt_of(record.job) or describe_job(record.job)
        embed.add_field(name=t("verify.request", locale), value=clip(what, 500), inline=False)
    elif report.reference and not report.job_id:
        embed.add_field(name="⚠️", value=t("verify.unknown_job", locale), inline=False)
    if report.notes:
        embed.set_footer(text=clip(" ".join(report.notes), 300))
    return embed
