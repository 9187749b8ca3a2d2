"""Point discord.py at another Discord (the sandbox) instead of discord.com."""

from __future__ import annotations

import os
from dataclasses import dataclass

import discord.gateway
import discord.http
import yarl


@dataclass(frozen=True)
class DiscordEndpoints:
    """Where discord.py sends REST calls and opens gateway sockets."""

    api_base: str
    gateway_url: yarl.URL


def current_endpoints() -> DiscordEndpoints:
    return DiscordEndpoints(discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Send all of discord.py's traffic to ``api_base`` / ``gateway_url``.

    ``Route.BASE`` covers REST, webhooks and interaction callbacks. ``DEFAULT_GATEWAY`` is what
    ``Client`` connects to (it never asks ``GET /gateway``) and where every client falls back after
    INVALID_SESSION; ``AutoShardedClient`` first asks ``GET /gateway/bot``, whose ``url`` the sandbox
    also points at itself. Resumes follow READY's ``resume_gateway_url``.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def restore_endpoints(endpoints: DiscordEndpoints) -> None:
    """Undo :func:`point_discord_at` (for tests)."""
    discord.http.Route.BASE = endpoints.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = endpoints.gateway_url


def point_discord_from_env() -> bool:
    """Apply ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL`` when both are set; returns whether it did."""
    api_base = os.environ.get("DISCORD_API_BASE")
    gateway_url = os.environ.get("DISCORD_GATEWAY_URL")
    if not api_base or not gateway_url:
        return False
    point_discord_at(api_base, gateway_url)
    return True
