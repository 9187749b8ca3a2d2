"""Approve and Reject, on a held result in the moderators' channel (moderators only)."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bot.core.checks import ensure_permissions
from bot.core.client import Interaction
from bot.exts.approval import strings as _strings  # noqa: F401  (the words of approval mode)
from bot.i18n import t

JOB = r"(?P<job>[0-9a-f]{32})"


class _DecisionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^$"):
    decision = ""
    style = discord.ButtonStyle.secondary
    emoji = ""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=t(f"approval.{self.decision}", "en"),
                style=self.style,
                emoji=self.emoji,
                custom_id=f"atelier:{self.decision}:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> _DecisionButton:
        return cls(match["job"])

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        services = interaction.client.services
        try:
            ensure_permissions(interaction, manage_messages=True)
        except app_commands.CheckFailure as error:
            await services.audit.record(
                interaction.guild_id or 0,
                interaction.user.id,
                "permission.refused",
                key=f"approval.{self.decision}",
            )
            await interaction.client.tree.on_error(interaction, error)
            return
        record = await services.jobs.decide_hold(self.job_id, self.decision, interaction.user.id)
        if record is None:
            await interaction.response.send_message(t("approval.already", interaction.locale), ephemeral=True)
            return
        await services.audit.record(
            record.guild_id or interaction.guild_id or 0,
            interaction.user.id,
            f"approval.{self.decision}",
            key=record.id,
            detail=_prompt(record),
        )
        done = t(f"approval.{self.decision}_by", interaction.locale, moderator=interaction.user.mention)
        await interaction.response.edit_message(
            content=done, view=None, allowed_mentions=discord.AllowedMentions.none()
        )
        services.deliverer.spawn(services.deliverer.deliver(record))


def _prompt(record: Any) -> str | None:
    return getattr(record.job.options, "prompt", None)


class ApproveButton(_DecisionButton, template=rf"^atelier:approved:{JOB}$"):
    decision = "approved"
    style = discord.ButtonStyle.success
    emoji = "✅"


class RejectButton(_DecisionButton, template=rf"^atelier:rejected:{JOB}$"):
    decision = "rejected"
    style = discord.ButtonStyle.danger
    emoji = "⛔"


BUTTONS: tuple[type[_DecisionButton], ...] = (ApproveButton, RejectButton)
