"""With `discord_shard_count` set the bot is an AutoShardedBot and answers on every shard."""

from __future__ import annotations

import time

from discord.ext import commands

from bot.sandbox import SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from bot.sandbox.snowflake import shard_for_guild
from config.settings import Settings
from tests.bot.e2e.conftest import TOKEN, BotControl

SHARDS = 2
GUILDS_PER_SHARD = 2


def add_guilds_on_every_shard(server: SandboxServer) -> dict[int, list[int]]:
    """Add guilds until every shard owns `GUILDS_PER_SHARD` of them; shard -> its guild ids.

    A guild's shard comes from the millisecond in its id, so guilds made a millisecond apart spread
    over the shards."""
    by_shard: dict[int, list[int]] = {shard: [] for shard in range(SHARDS)}
    for guild_id in server.world.guilds:
        by_shard[shard_for_guild(guild_id, SHARDS)].append(guild_id)
    for number in range(1000):
        if all(len(ids) >= GUILDS_PER_SHARD for ids in by_shard.values()):
            break
        guild = server.world.add_guild(f"Sandbox {number}")
        by_shard[shard_for_guild(guild.id, SHARDS)].append(guild.id)
        time.sleep(0.002)
    assert all(len(ids) >= GUILDS_PER_SHARD for ids in by_shard.values()), by_shard
    return by_shard


def shards_that_got(server: SandboxServer, interaction_id: int) -> list[int]:
    """The shards whose gateway session was sent this interaction."""
    return sorted(
        session.shard_id
        for session in server.gateway.sessions.values()
        if any(
            payload["t"] == "INTERACTION_CREATE" and int(payload["d"]["id"]) == interaction_id
            for _, payload in session.backlog
        )
    )


async def test_every_shard_answers_the_guilds_it_owns(settings: Settings) -> None:
    saved = current_endpoints()
    async with SandboxServer(token=TOKEN, shard_count=SHARDS) as server:
        point_discord_at(server.api_base, server.gateway_url)
        by_shard = add_guilds_on_every_shard(server)  # before the bot connects: each shard gets its own
        # production: commands are synced globally, so every guild has them
        shard_settings = settings.model_copy(update={"discord_shard_count": SHARDS, "env": "production"})
        control = BotControl(server, shard_settings)
        try:
            bot = await control.start()
            assert isinstance(bot, commands.AutoShardedBot) and bot.shard_count == SHARDS
            assert sorted(bot.shards) == list(range(SHARDS))
            for shard, guild_ids in by_shard.items():
                for guild_id in guild_ids:
                    guild = bot.get_guild(guild_id)
                    assert guild is not None and guild.shard_id == shard, (guild_id, shard)
                    channel = int(server.world.guilds[guild_id].channels[0]["id"])
                    handle = await server.send_slash_command("help", channel=channel)
                    await server.wait_for_response(handle, 5)
                    assert handle.response_type == 4 and not handle.rejections, (guild_id, shard)
                    assert (handle.response_data or {}).get("embeds"), (guild_id, shard)
                    # only the owning shard's session was sent it, so that shard answered
                    assert shards_that_got(server, handle.id) == [shard], (guild_id, shard)
        finally:
            await control.stop()
            restore_endpoints(saved)
