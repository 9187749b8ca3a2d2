"""Queue a job for an interaction and answer with its place in the queue (well inside 3 seconds)."""

from __future__ import annotations

from typing import Any

import discord

from bot.core.client import Interaction
from bot.db.jobs import MemberQuota
from bot.delivery.render import queued_message
from bot.delivery.target import DiscordTarget
from bot.exts._shared.jobs import provided_fields
from bot.guilds.policy import MemberRequest
from bot.pipeline.service import Receipt
from wire.contract import AnyJob


async def defer(interaction: discord.Interaction[Any]) -> None:
    """Acknowledge now (a public "thinking…" reply) if nothing has answered yet."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)


def member_request(interaction: Interaction, job: AnyJob) -> MemberRequest:
    """What the server's rules need to know about the member and the channel."""
    user = interaction.user
    roles = tuple(role.id for role in user.roles) if isinstance(user, discord.Member) else ()
    return MemberRequest(
        guild_id=interaction.guild_id or 0,
        user_id=user.id,
        channel_id=interaction.channel_id or 0,
        roles=roles,
        age_restricted=bool(getattr(interaction.channel, "nsfw", False)),
        provided=provided_fields(interaction, job),
    )


async def submit_job(interaction: Interaction, job: AnyJob) -> Receipt:
    """Apply the server's rules, defer, store the job through admission (the member's limits are
    enforced there), then edit the reply to show its place in line.

    The rules run before deferring, so a refusal is one private answer and no public "thinking…".
    The job's lock is held until the reply shows "queued" and its message id is stored, so a fast
    result can never be overwritten by the queued notice.
    """
    services = interaction.client.services
    quota: MemberQuota | None = None
    if interaction.guild_id is not None:
        job, quota = await services.policy.prepare(job, member_request(interaction, job))
    await defer(interaction)
    interaction.extras["job_id"] = job.id
    target = DiscordTarget.from_interaction(interaction)
    async with services.deliverer.lock(job.id):
        receipt = await services.pipeline.submit(job, target.to_dict(), quota)
        rendered = queued_message(
            job, receipt.queue_position, receipt.enqueued, target.locale, services.result_buttons
        )
        message = await interaction.edit_original_response(embed=rendered.embed, view=rendered.view)
        interaction.extras["queued"] = True
        await services.jobs.set_delivery_target(job.id, target.with_message(message.id).to_dict())
    return receipt
