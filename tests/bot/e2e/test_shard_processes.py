"""One bot process per shard (`discord_shard_ids`): each identifies only its shards, answers only the
guilds those own, and reads the event stream under a consumer name of its own."""

from __future__ import annotations

import asyncio

from discord.ext import commands

from bot.app import AtelierBot, create_bot
from bot.sandbox import SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from config.settings import Settings
from tests.bot.e2e.conftest import GUILD_READY_TIMEOUT_S, TOKEN
from tests.bot.e2e.test_sharding import SHARDS, add_guilds_on_every_shard, shards_that_got


async def test_a_process_per_shard_answers_its_own_guilds(settings: Settings) -> None:
    saved = current_endpoints()
    bots: list[AtelierBot] = []
    tasks: list[asyncio.Task[None]] = []
    async with SandboxServer(token=TOKEN, shard_count=SHARDS) as server:
        point_discord_at(server.api_base, server.gateway_url)
        by_shard = add_guilds_on_every_shard(server)
        try:
            for shard in range(SHARDS):  # one after the other, as a supervisor would start them
                update = {"discord_shard_count": SHARDS, "discord_shard_ids": [shard], "env": "production"}
                bot = create_bot(settings.model_copy(update=update))
                bot._connection.guild_ready_timeout = GUILD_READY_TIMEOUT_S
                bots.append(bot)
                tasks.append(asyncio.create_task(bot.start(TOKEN)))
                await server.wait_until_ready(timeout=30, shards=shard + 1)
                await asyncio.wait_for(bot.wait_until_ready(), 30)
            assert all(isinstance(bot, commands.AutoShardedBot) for bot in bots)
            assert [sorted(bot.shards) for bot in bots] == [[shard] for shard in range(SHARDS)]
            assert len({bot.consumer_name for bot in bots}) == SHARDS
            for shard, guild_ids in by_shard.items():
                for guild_id in guild_ids:
                    assert bots[shard].get_guild(guild_id) is not None
                    assert all(
                        bots[other].get_guild(guild_id) is None for other in range(SHARDS) if other != shard
                    )
                    channel = int(server.world.guilds[guild_id].channels[0]["id"])
                    handle = await server.send_slash_command("help", channel=channel)
                    await server.wait_for_response(handle, 5)
                    assert handle.response_type == 4 and not handle.rejections, (guild_id, shard)
                    assert shards_that_got(server, handle.id) == [shard]
        finally:
            for bot in bots:
                await bot.close()
            for task in tasks:
                await asyncio.wait_for(task, 20)
            restore_endpoints(saved)
