"""The client every feature talks to, and the interaction type that carries it.

`AtelierClient` is what features may rely on: `services`. The bot (`bot.app.AtelierBot`) is one;
features never import `bot.app`, so nothing here depends on how the bot is put together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.core.services import Services


class AtelierClient(commands.Bot):
    """A discord.py bot that holds Atelier's services once it has started."""

    _services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the bot has not started yet")
        return self._services


Interaction: TypeAlias = discord.Interaction[AtelierClient]
"""What slash commands, buttons and modals receive: `interaction.client.services` is typed."""


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The services behind an interaction (its client is always an AtelierClient)."""
    client = interaction.client
    if not isinstance(client, AtelierClient):
        raise TypeError(f"interaction from a {type(client).__name__}, not an AtelierClient")
    return client.services
