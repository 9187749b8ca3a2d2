"""Buttons bound to one job (custom ids carry the job id, so they keep working after a restart)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.client import Interaction
from bot.core.components import ButtonContext, Phase, ResultButtons
from bot.exts.results import actions
from bot.i18n import t

JOB = r"(?P<job>[0-9a-f]{32})"


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^$"):
    """A button bound to one job; subclasses name the action and say what a click does."""

    action: str = ""
    style = discord.ButtonStyle.secondary
    emoji: str | None = None

    def __init__(self, job_id: str, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t(f"button.{self.action}", locale),
                style=self.style,
                emoji=self.emoji,
                custom_id=f"atelier:{self.action}:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> JobButton:
        return cls(match["job"], str(interaction.locale.value))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await actions.on_click(interaction, self.action, self.job_id)


class RerollButton(JobButton, template=rf"^atelier:reroll:{JOB}$"):
    action = "reroll"
    style = discord.ButtonStyle.primary
    emoji = "🎲"


class VariationButton(JobButton, template=rf"^atelier:variation:{JOB}$"):
    action = "variation"
    emoji = "🪄"


class ExtendButton(JobButton, template=rf"^atelier:extend:{JOB}$"):
    action = "extend"
    emoji = "➕"


class CancelButton(JobButton, template=rf"^atelier:cancel:{JOB}$"):
    action = "cancel"
    style = discord.ButtonStyle.danger
    emoji = "✖️"


class DeleteButton(JobButton, template=rf"^atelier:delete:{JOB}$"):
    action = "delete"
    emoji = "🗑️"


BUTTONS: tuple[type[JobButton], ...] = (
    RerollButton,
    VariationButton,
    ExtendButton,
    CancelButton,
    DeleteButton,
)


def pending_buttons(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    """While queued or running: cancel."""
    if context.phase is not Phase.PENDING:
        return []
    return [CancelButton(context.job.id, context.locale)]


def remix_buttons(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    """After the job: reroll; and variation (image) or extend (music) when it worked."""
    if context.phase is Phase.PENDING:
        return []
    job_id, locale, modality = context.job.id, context.locale, context.job.modality
    items: list[discord.ui.Item[Any]] = [RerollButton(job_id, locale)]
    if context.phase is Phase.SUCCEEDED and modality == "image":
        items.append(VariationButton(job_id, locale))
    if context.phase is Phase.SUCCEEDED and modality == "music":
        items.append(ExtendButton(job_id, locale))
    return items


def delete_button(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    """After the job: delete, always last."""
    return [] if context.phase is Phase.PENDING else [DeleteButton(context.job.id, context.locale)]


def add_result_buttons(buttons: ResultButtons) -> None:
    """Put this feature's buttons on job messages (other features' buttons go between remix and delete)."""
    buttons.add("results.cancel", pending_buttons, priority=10)
    buttons.add("results.remix", remix_buttons, priority=10)
    buttons.add("results.delete", delete_button, priority=1000)
