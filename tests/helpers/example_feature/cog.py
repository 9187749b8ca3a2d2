"""The example feature's command and buttons."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.checks import ensure_permissions, require_permissions
from bot.core.client import Interaction
from bot.core.components import ButtonContext, Phase
from bot.core.services import Services


class TidyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^example:tidy:(?P<guild>\d+)$"):
    """Only moderators may press it, whoever's message it is on."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(discord.ui.Button(label="Tidy now", custom_id=f"example:tidy:{guild_id}"))
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> TidyButton:
        return cls(int(match["guild"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        try:
            ensure_permissions(interaction, manage_guild=True)
        except app_commands.CheckFailure as error:
            await interaction.client.tree.on_error(interaction, error)
            return
        await interaction.response.send_message(f"tidied guild {self.guild_id}", ephemeral=True)


class StarButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^example:star:(?P<job>[0-9a-f]{32})$"
):
    """Anyone may star a finished job."""

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(emoji="⭐", custom_id=f"example:star:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StarButton:
        return cls(match["job"])

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        record = await interaction.client.services.jobs.get(self.job_id)
        state = record.status.value if record else "gone"
        await interaction.response.send_message(f"starred {self.job_id[:8]} ({state})", ephemeral=True)


def star_button(context: ButtonContext) -> list[discord.ui.Item[Any]]:
    return [] if context.phase is Phase.PENDING else [StarButton(context.job.id)]


class TidyCog(commands.Cog):
    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="tidy", description="Tidy up (moderators only).")
    @app_commands.guild_only()
    @require_permissions(manage_guild=True)
    async def tidy(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.send_message(
            "ready to tidy", view=discord.ui.View().add_item(TidyButton(interaction.guild_id)), ephemeral=True
        )
