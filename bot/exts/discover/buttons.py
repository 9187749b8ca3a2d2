"""Discovery's buttons: on a feed page (play or see, more like this, not for me, next page) and
"More like this" on every delivered result. Custom ids carry only the item (or the filter); who may
see what is decided again on every click from the clicker and the channel."""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.core.components import ButtonContext, Phase
from bot.i18n import t

ITEM = r"(?P<item>[A-Za-z0-9_:.\-]{1,80})"
FILTER = r"(?P<modality>any|music|image|text)"


class Handlers(Protocol):
    """What the buttons call (the feature's cog)."""

    async def on_item_button(
        self, interaction: discord.Interaction[Any], action: str, item_id: str
    ) -> None: ...

    async def on_next(self, interaction: discord.Interaction[Any], modality: str) -> None: ...


def _cog(interaction: discord.Interaction[Any]) -> Handlers:
    cog = interaction.client.get_cog("DiscoverCog")  # type: ignore[attr-defined]
    if cog is None:
        raise RuntimeError("the discover feature is not loaded")
    return cog  # type: ignore[no-any-return]


class _ItemButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^$"):
    action = ""

    def __init__(
        self, item_id: str, label: str | None = None, emoji: str | None = None, row: int | None = None
    ):
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"discover:{self.action}:{item_id}",
                row=row,
            )
        )
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> _ItemButton:
        return cls(match["item"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_item_button(interaction, self.action, self.item_id)


class ShowButton(_ItemButton, template=rf"^discover:show:{ITEM}$"):
    action = "show"


class MoreButton(_ItemButton, template=rf"^discover:more:{ITEM}$"):
    action = "more"


class NotForMeButton(_ItemButton, template=rf"^discover:nope:{ITEM}$"):
    action = "nope"


class NextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"^discover:next:{FILTER}$"):
    def __init__(self, modality: str, locale: str = "en-US") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("discover.next", locale),
                emoji="➡️",
                style=discord.ButtonStyle.primary,
                custom_id=f"discover:next:{modality}",
                row=3,
            )
        )
        self.modality = modality

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NextButton:
        return cls(match["modality"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_next(interaction, self.modality)


BUTTONS = (ShowButton, MoreButton, NotForMeButton, NextButton)


def more_button(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    """ "More like this" on a delivered result (the result is an item once delivered)."""
    if context.phase is not Phase.SUCCEEDED or context.job.guild_id is None:
        return []
    return [MoreButton(context.job.id, label=t("discover.more", context.locale), emoji="➕")]


def page_view(item_ids: list[str], modality: str, locale: str) -> discord.ui.View:
    """A page's buttons: a row each of play/see, more like this and not for me, then next page."""
    view = discord.ui.View(timeout=None)
    for n, item_id in enumerate(item_ids, start=1):
        view.add_item(ShowButton(item_id, label=f"{n}", emoji="▶️", row=0))
    for n, item_id in enumerate(item_ids, start=1):
        view.add_item(MoreButton(item_id, label=f"{n}", emoji="➕", row=1))
    for n, item_id in enumerate(item_ids, start=1):
        view.add_item(NotForMeButton(item_id, label=f"{n}", emoji="✖️", row=2))
    view.add_item(NextButton(modality, locale))
    return view
