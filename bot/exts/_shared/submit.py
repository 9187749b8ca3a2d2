"""Queue a job for an interaction and answer with its place in the queue (well inside 3 seconds)."""

from __future__ import annotations

from typing import Any

import discord

from bot.core.client import Interaction
from bot.delivery.render import queued_message
from bot.delivery.target import DiscordTarget
from bot.pipeline.service import Receipt
from wire.contract import AnyJob


async def defer(interaction: discord.Interaction[Any]) -> None:
    """Acknowledge now (a public "thinking…" reply) if nothing has answered yet."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)


async def submit_job(interaction: Interaction, job: AnyJob) -> Receipt:
    """Defer, store the job and pass it through admission, then edit the reply to show its place.

    The job's lock is held until the reply shows "queued" and its message id is stored, so a fast
    result can never be overwritten by the queued notice.
    """
    services = interaction.client.services
    await defer(interaction)
    interaction.extras["job_id"] = job.id
    target = DiscordTarget.from_interaction(interaction)
    async with services.deliverer.lock(job.id):
        receipt = await services.pipeline.submit(job, target.to_dict())
        rendered = queued_message(
            job, receipt.queue_position, receipt.enqueued, target.locale, services.result_buttons
        )
        message = await interaction.edit_original_response(embed=rendered.embed, view=rendered.view)
        interaction.extras["queued"] = True
        await services.jobs.set_delivery_target(job.id, target.with_message(message.id).to_dict())
    return receipt
