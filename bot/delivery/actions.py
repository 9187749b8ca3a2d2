"""What the buttons on job messages do: reroll, variation, extend, cancel, delete."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.db.jobs import CancelOutcome, JobRecord
from bot.exts._shared.errors import UserFacingError
from bot.exts._shared.jobs import remix
from bot.exts._shared.submit import submit_job
from bot.exts._shared.tree import send_ephemeral
from bot.i18n import t

if TYPE_CHECKING:
    from bot.app import AtelierBot

log = logging.getLogger(__name__)

CANCEL_REPLIES = {
    CancelOutcome.CANCELLED: "cancel_cancelled",
    CancelOutcome.REQUESTED: "cancel_requested",
    CancelOutcome.ALREADY_FINISHED: "cancel_finished",
}


def may_manage(interaction: discord.Interaction[Any], record: JobRecord) -> bool:
    """The member who asked for the job, or one who can manage messages here."""
    if record.user_id == interaction.user.id:
        return True
    permissions = getattr(interaction, "permissions", None)
    return bool(permissions and permissions.manage_messages)


async def reply(interaction: discord.Interaction[Any], key: str, **values: Any) -> None:
    """A short ephemeral answer in the member's language."""
    text = t(key, interaction.locale, **values)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def handle_button(
    bot: AtelierBot, interaction: discord.Interaction[Any], action: str, job_id: str
) -> None:
    """Dispatch a click; errors reach the same friendly handler as slash commands."""
    try:
        record = await bot.runtime.jobs.get(job_id)
        if record is None:
            await reply(interaction, "remix_missing")
            return
        if action in ("reroll", "variation", "extend"):
            await _remix(interaction, record, action)
        elif action == "cancel":
            await _cancel(bot, interaction, record)
        elif action == "delete":
            await _delete(interaction, record)
    except UserFacingError as error:
        await bot.tree.on_error(interaction, error)
    except Exception:
        log.exception("button %s on job %s (interaction %s) failed", action, job_id, interaction.id)
        await send_ephemeral(interaction, t("internal", interaction.locale, ref=f" (ref {interaction.id})"))


async def _remix(interaction: discord.Interaction[Any], record: JobRecord, action: str) -> None:
    changes: dict[str, Any] = {}
    if action == "variation":
        picture = next((a for a in record.artifacts if a.kind in ("image", "grid")), None)
        if picture is None:
            raise UserFacingError("remix_missing")
        changes = {"init_artifact": picture.key, "strength": 0.55}
    elif action == "extend":
        midi = next((a for a in record.artifacts if a.kind == "midi"), None)
        if midi is None:
            raise UserFacingError("remix_missing")
        changes = {"prime_artifact": midi.key}
    await submit_job(interaction, remix(record.job, interaction, **changes))


async def _cancel(bot: AtelierBot, interaction: discord.Interaction[Any], record: JobRecord) -> None:
    if not may_manage(interaction, record):
        await reply(interaction, "not_yours")
        return
    outcome = await cancel_and_deliver(bot, record.id)
    await reply(interaction, CANCEL_REPLIES.get(outcome, "job_not_found"), job_id=record.id)


async def cancel_and_deliver(bot: AtelierBot, job_id: str) -> CancelOutcome:
    """Cancel a job; one that never ran is delivered as cancelled at once (no worker will report it)."""
    outcome = await bot.runtime.service.cancel(job_id)
    if outcome is CancelOutcome.CANCELLED:
        cancelled = await bot.runtime.jobs.get(job_id)
        if cancelled is not None:
            bot.deliverer.spawn(bot.deliverer.deliver(cancelled))
    return outcome


async def _delete(interaction: discord.Interaction[Any], record: JobRecord) -> None:
    if not may_manage(interaction, record):
        await reply(interaction, "not_yours")
        return
    await interaction.response.defer()
    if interaction.message is not None:
        await interaction.message.delete()
