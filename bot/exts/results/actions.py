"""What the job buttons do: reroll, variation, extend, cancel, delete."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.core.checks import owns_or_moderates
from bot.core.client import Interaction
from bot.core.errors import UserFacingError
from bot.core.tree import send_ephemeral
from bot.db.jobs import JobRecord
from bot.exts._shared.jobs import CANCEL_REPLIES, remix
from bot.exts._shared.submit import submit_job
from bot.i18n import t
from bot.pipeline.admission import Refused

log = logging.getLogger(__name__)


async def reply(interaction: Interaction, key: str, **values: Any) -> None:
    """A short ephemeral answer in the member's language."""
    text = t(key, interaction.locale, **values)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def on_click(interaction: Interaction, action: str, job_id: str) -> None:
    """Run a click; errors reach the same friendly handler as slash commands."""
    services = interaction.client.services
    try:
        if interaction.guild_id is not None:
            await services.policy.ensure_allowed(interaction.guild_id, interaction.user.id)
        record = await services.jobs.get(job_id)
        if record is None:
            await reply(interaction, "remix_missing")
            return
        await ACTIONS[action](interaction, record)
    except (UserFacingError, Refused) as error:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]
    except Exception:
        log.exception("button %s on job %s (interaction %s) failed", action, job_id, interaction.id)
        await send_ephemeral(interaction, t("internal", interaction.locale, ref=f" (ref {interaction.id})"))


async def reroll(interaction: Interaction, record: JobRecord) -> None:
    await submit_job(interaction, remix(record.job, interaction))


async def variation(interaction: Interaction, record: JobRecord) -> None:
    picture = next((a for a in record.artifacts if a.kind in ("image", "grid")), None)
    if picture is None:
        raise UserFacingError("remix_missing")
    await submit_job(interaction, remix(record.job, interaction, init_artifact=picture.key, strength=0.55))


async def extend(interaction: Interaction, record: JobRecord) -> None:
    midi = next((a for a in record.artifacts if a.kind == "midi"), None)
    if midi is None:
        raise UserFacingError("remix_missing")
    await submit_job(interaction, remix(record.job, interaction, prime_artifact=midi.key))


async def cancel(interaction: Interaction, record: JobRecord) -> None:
    if not owns_or_moderates(interaction, record.user_id, record.guild_id):
        await reply(interaction, "not_yours")
        return
    outcome = await interaction.client.services.deliverer.cancel(record.id)
    await reply(interaction, CANCEL_REPLIES.get(outcome, "job_not_found"), job_id=record.id)


async def delete(interaction: Interaction, record: JobRecord) -> None:
    if not owns_or_moderates(interaction, record.user_id, record.guild_id):
        await reply(interaction, "not_yours")
        return
    await interaction.response.defer()
    if interaction.message is not None:
        await interaction.message.delete()
    services = interaction.client.services
    removed = await services.jobs.forget_artifacts(record.id)
    for artifact in removed:  # its files go too: a deleted result is not kept anywhere
        await asyncio.to_thread(services.store.delete, artifact.key)
    if record.user_id != interaction.user.id and record.guild_id is not None:
        await services.audit.record(
            record.guild_id, interaction.user.id, "result.deleted", key=record.id, detail=_prompt(record)
        )


def _prompt(record: JobRecord) -> str | None:
    return getattr(record.job.options, "prompt", None)


ACTIONS = {"reroll": reroll, "variation": variation, "extend": extend, "cancel": cancel, "delete": delete}
