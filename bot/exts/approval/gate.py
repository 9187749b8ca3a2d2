"""The approval gate: a succeeded job on a server in approval mode is posted to the moderators'
channel and held; once a moderator decides, the job is delivered (approved) or withheld (rejected)."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.core.components import ButtonContext, Phase, ResultButtons
from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.delivery.gates import PASS, GateDecision, Verdict
from bot.delivery.target import DEFAULT_SIZE_LIMIT, DiscordTarget
from bot.exts.approval.buttons import ApproveButton, RejectButton
from bot.i18n import t
from wire.contract import utcnow

log = logging.getLogger(__name__)


def approval_buttons(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    return (
        [ApproveButton(context.job.id), RejectButton(context.job.id)]
        if context.phase is Phase.SUCCEEDED
        else []
    )


class ApprovalGate:
    """Holds succeeded results on servers whose approval mode is on."""

    def __init__(self, client: discord.Client, services: Services) -> None:
        self.client = client
        self.services = services
        self.buttons = ResultButtons()
        self.buttons.add("approval", approval_buttons)

    async def __call__(self, record: JobRecord, target: DiscordTarget) -> GateDecision:
        decision = (record.hold or {}).get("decision")
        if decision == "approved":
            return PASS
        if decision == "rejected":
            return GateDecision(Verdict.WITHHOLD, "withheld.rejected")
        if record.guild_id is None or record.outcome is not JobStatus.SUCCEEDED:
            return PASS  # failures and cancellations go straight to the member
        approval = (await self.services.guilds.get(record.guild_id)).approval
        if not approval.enabled or approval.channel_id is None:
            return PASS
        channel = self.client.get_partial_messageable(approval.channel_id, guild_id=record.guild_id)
        rendered = await self.services.deliverer.render_result(record, DEFAULT_SIZE_LIMIT, "en", self.buttons)
        message = await channel.send(
            content=t(
                "approval.waiting", "en", member=f"<@{target.user_id}>", channel=f"<#{target.channel_id}>"
            ),
            embed=rendered.embed,
            files=rendered.discord_files(),
            view=rendered.view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        info = {
            "gate": "approval",
            "channel_id": str(approval.channel_id),
            "message_id": str(message.id),
            "held_at": utcnow().isoformat(),
        }
        if not await self.services.jobs.hold(record.id, info):
            log.warning("job %s could not be held (its delivery claim lapsed?)", record.id)
        return GateDecision(Verdict.HOLD)
