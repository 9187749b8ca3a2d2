"""Autocomplete of model presets from the settings."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands

from bot.core.client import services_of

Autocomplete = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def preset_names(settings: Any, modality: str) -> list[str]:
    """Configured presets of a modality, the default first."""
    default = str(getattr(settings, f"default_{modality}_preset"))
    names = sorted(getattr(settings, f"{modality}_presets"))
    return [default, *(n for n in names if n != default)] if default in names else names


def preset_autocomplete(modality: str) -> Autocomplete:
    """Suggest presets whose name contains what the member typed."""

    async def complete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        settings = services_of(interaction).settings
        needle = current.lower().strip()
        names = [n for n in preset_names(settings, modality) if needle in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]

    return complete
