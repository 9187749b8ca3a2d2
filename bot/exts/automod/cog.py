"""Listeners that keep the AutoMod cache current (reading rules needs Manage Server)."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.guilds.automod import AutoModCache


class AutoModCog(commands.Cog):
    def __init__(self, cache: AutoModCache) -> None:
        self.cache = cache

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.cache.refresh(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.cache.refresh(guild)

    @commands.Cog.listener()
    async def on_automod_rule_create(self, rule: discord.AutoModRule) -> None:
        self.cache.put(rule)

    @commands.Cog.listener()
    async def on_automod_rule_update(self, rule: discord.AutoModRule) -> None:
        self.cache.put(rule)

    @commands.Cog.listener()
    async def on_automod_rule_delete(self, rule: discord.AutoModRule) -> None:
        self.cache.remove(rule)
