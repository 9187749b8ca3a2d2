"""A local Discord (REST + gateway, API v10) for end-to-end tests and offline use of the bot."""

from bot.sandbox.client_patch import point_discord_at, point_discord_from_env
from bot.sandbox.interactions import InteractionHandle, Rejection
from bot.sandbox.rules import SandboxRules
from bot.sandbox.server import SandboxServer

__all__ = [
    "InteractionHandle",
    "Rejection",
    "SandboxRules",
    "SandboxServer",
    "point_discord_at",
    "point_discord_from_env",
]
