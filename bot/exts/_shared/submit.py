"""Queue a job for an interaction and answer with its place in the queue (well inside 3 seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.delivery.render import queued_message
from bot.delivery.target import DiscordTarget
from bot.exts._shared.jobs import AnyJob
from bot.pipeline.service import Receipt

if TYPE_CHECKING:
    from bot.app import AtelierBot


async def defer(interaction: discord.Interaction[Any]) -> None:
    """Acknowledge now (a public "thinking…" reply) if nothing has answered yet."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)


async def submit_job(interaction: discord.Interaction[Any], job: AnyJob) -> Receipt:
    """Defer, store and queue the job, then edit the reply to show the queue position.

    The job's lock is held until the reply shows "queued" and its message id is stored, so a fast
    result can never be overwritten by the queued notice.
    """
    bot: AtelierBot = interaction.client  # type: ignore[assignment]
    await defer(interaction)
    interaction.extras["job_id"] = job.id
    target = DiscordTarget.from_interaction(interaction)
    async with bot.deliverer.lock(job.id):
        receipt = await bot.runtime.service.submit(job, target.to_dict())
        rendered = queued_message(job, receipt.queue_position, receipt.enqueued, target.locale)
        message = await interaction.edit_original_response(embed=rendered.embed, view=rendered.view)
        interaction.extras["queued"] = True
        await bot.runtime.jobs.set_delivery_target(job.id, target.with_message(message.id).to_dict())
    return receipt
