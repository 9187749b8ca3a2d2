"""With `discord_shard_count` set the bot is an AutoShardedBot and answers on every shard."""

from __future__ import annotations

from discord.ext import commands

from bot.sandbox import SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from config.settings import Settings
from tests.bot.e2e.conftest import TOKEN, BotControl


async def test_two_shards(settings: Settings) -> None:
    saved = current_endpoints()
    async with SandboxServer(token=TOKEN, shard_count=2) as server:
        point_discord_at(server.api_base, server.gateway_url)
        control = BotControl(server, settings.model_copy(update={"discord_shard_count": 2}))
        try:
            bot = await control.start()
            assert isinstance(bot, commands.AutoShardedBot) and bot.shard_count == 2
            handle = await server.send_slash_command("help")
            await server.wait_for_response(handle, 3)
            assert handle.response_type == 4
        finally:
            await control.stop()
            restore_endpoints(saved)
