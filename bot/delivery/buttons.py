"""Buttons on job messages that keep working after a restart (custom ids carry the job id).

Each button only parses its id here; what a click does lives in `bot.delivery.actions`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import t

if TYPE_CHECKING:
    from bot.app import AtelierBot

JOB = r"(?P<job>[0-9a-f]{32})"


class _JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^$"):
    """A button bound to one job; subclasses name the action."""

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
    ) -> _JobButton:
        return cls(match["job"], str(interaction.locale.value))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.delivery.actions import handle_button

        bot: AtelierBot = interaction.client  # type: ignore[assignment]
        await handle_button(bot, interaction, self.action, self.job_id)


class RerollButton(_JobButton, template=rf"^atelier:reroll:{JOB}$"):
    action = "reroll"
    style = discord.ButtonStyle.primary
    emoji = "🎲"


class VariationButton(_JobButton, template=rf"^atelier:variation:{JOB}$"):
    action = "variation"
    emoji = "🪄"


class ExtendButton(_JobButton, template=rf"^atelier:extend:{JOB}$"):
    action = "extend"
    emoji = "➕"


class CancelButton(_JobButton, template=rf"^atelier:cancel:{JOB}$"):
    action = "cancel"
    style = discord.ButtonStyle.danger
    emoji = "✖️"


class DeleteButton(_JobButton, template=rf"^atelier:delete:{JOB}$"):
    action = "delete"
    emoji = "🗑️"


DYNAMIC_BUTTONS: tuple[type[_JobButton], ...] = (
    RerollButton,
    VariationButton,
    ExtendButton,
    CancelButton,
    DeleteButton,
)


def running_view(job_id: str, locale: str) -> discord.ui.View:
    """While queued or running: cancel only."""
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, locale))
    return view


def finished_view(job_id: str, modality: str, succeeded: bool, locale: str) -> discord.ui.View:
    """After the job: reroll, variation (image) or extend (music) when it worked, and delete."""
    view = discord.ui.View(timeout=None)
    view.add_item(RerollButton(job_id, locale))
    if succeeded and modality == "image":
        view.add_item(VariationButton(job_id, locale))
    if succeeded and modality == "music":
        view.add_item(ExtendButton(job_id, locale))
    view.add_item(DeleteButton(job_id, locale))
    return view
