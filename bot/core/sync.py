"""Syncing slash commands only when their payload changed (Discord rate-limits syncs).

The hash of the last synced payload, per application and scope, is kept in a small JSON file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

STATE_FILE = "discord-commands.json"


async def command_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[Any]:
    """What `tree.sync(guild=...)` would send, translations included."""
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


def payload_hash(payload: list[Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree[Any],
    application_id: int,
    data_dir: Path,
    guild_id: int | None,
    *,
    force: bool = False,
) -> bool:
    """Sync to `guild_id` (development) or globally (None); True if a sync was needed (or forced) and done."""
    guild = discord.Object(guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    digest = payload_hash(await command_payload(tree, guild))
    path = data_dir / STATE_FILE
    state: dict[str, str] = {}
    if path.exists():
        try:
            state = json.loads(path.read_text())
        except ValueError:
            log.warning("ignoring unreadable %s", path)
    scope = f"{application_id}:{guild_id or 'global'}"
    if state.get(scope) == digest and not force:
        log.info("slash commands unchanged (%s); not syncing", scope)
        return False
    synced = await tree.sync(guild=guild)
    state[scope] = digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True))
    log.info("synced %d slash commands (%s)", len(synced), scope)
    return True
