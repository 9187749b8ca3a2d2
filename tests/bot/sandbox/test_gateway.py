"""Gateway behaviour with the real discord.py client: compression, RESUME, RECONNECT, INVALID_SESSION."""

from __future__ import annotations

import asyncio
import json
import zlib

import aiohttp
import discord
import pytest

from bot.sandbox import SandboxServer
from tests.bot.sandbox.art_bot import ArtBot, ShardedArtBot
from tests.bot.sandbox.conftest import TOKEN


async def ping_round_trip(sandbox: SandboxServer) -> None:
    handle = await sandbox.send_slash_command("ping")
    await sandbox.wait_for_response(handle, timeout=5)
    assert handle.response_type == 4


async def test_client_uses_zlib_stream_and_heartbeats(sandbox: SandboxServer) -> None:
    url = sandbox.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    inflate = zlib.decompressobj()
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = json.loads(inflate.decompress(await ws.receive_bytes()))
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == sandbox.rules.heartbeat_interval_ms
        await ws.send_json({"op": 1, "d": None})
        assert json.loads(inflate.decompress(await ws.receive_bytes())) == {"op": 11}
        presences = 1 << 8
        await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1 | presences, "properties": {}}})
        ready = json.loads(inflate.decompress(await ws.receive_bytes()))
        guild = json.loads(inflate.decompress(await ws.receive_bytes()))
    assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
    assert ready["d"]["resume_gateway_url"] == sandbox.gateway_url
    assert ready["d"]["guilds"] == [{"id": str(sandbox.guild_id), "unavailable": True}]
    assert {m["user"]["id"] for m in guild["d"]["members"]} == {
        str(sandbox.member_id),
        str(sandbox.bot_user_id),
    }


async def test_bad_token_closes_with_4004(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(sandbox.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
        closing = await ws.receive()
    assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4004


async def test_drop_resumes_and_replays_missed_events(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    assert await sandbox.drop_gateway() == 1
    assert sandbox.gateway.live_sessions() == []
    handle = await sandbox.send_slash_command("ping")  # dispatched while the socket is down
    await sandbox.wait_for_gateway("resume")
    await sandbox.wait_for_response(handle, timeout=5)
    assert sandbox.gateway.count("identify") == 1, "a resume, not a new session"
    await ping_round_trip(sandbox)


async def test_reconnect_opcode_resumes(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    art_bot.add_listener(on_resumed)
    assert await sandbox.send_reconnect() == 1
    await sandbox.wait_for_gateway("resume")
    await asyncio.wait_for(resumed.wait(), 5)
    assert sandbox.gateway.count("identify") == 1
    await ping_round_trip(sandbox)


async def test_invalid_session_forces_identify(sandbox: SandboxServer, art_bot: ArtBot) -> None:
    first = next(iter(sandbox.gateway.sessions))
    assert await sandbox.invalidate_session() == 1
    event = await sandbox.wait_for_gateway("identify", count=2)
    assert event.session_id != first
    assert list(sandbox.gateway.sessions) == [event.session_id]
    await ping_round_trip(sandbox)


async def test_resume_of_unknown_session_is_invalidated(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(sandbox.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 6, "d": {"token": TOKEN, "session_id": "nope", "seq": 3}})
        assert await ws.receive_json() == {"op": 9, "d": False}


@pytest.mark.parametrize("shard_count", [2])
async def test_autosharded_client_identifies_every_shard(sandbox: SandboxServer, shard_count: int) -> None:
    bot = ShardedArtBot(sandbox.guild_id)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await asyncio.wait_for(bot.ready.wait(), 10)
        assert bot.shard_count == shard_count
        shards = sorted((s.shard_id, s.shard_count) for s in sandbox.gateway.sessions.values())
        assert shards == [(0, 2), (1, 2)]
        guild = bot.get_guild(sandbox.guild_id)
        assert guild is not None and guild.shard_id == (sandbox.guild_id >> 22) % 2
        await bot.tree.sync(guild=bot.guild)
        await ping_round_trip(sandbox)
        await sandbox.drop_gateway(shard_id=guild.shard_id)
        await sandbox.wait_for_gateway("resume")
        await ping_round_trip(sandbox)
        assert sandbox.gateway.count("identify") == 2
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


async def test_member_chunking_for_bots_with_the_members_intent(sandbox: SandboxServer) -> None:
    intents = discord.Intents.default()
    intents.members = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    client.event(on_ready)
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        guild = client.get_guild(sandbox.guild_id)
        assert guild is not None and guild.chunked
        assert sandbox.gateway.count("request_members") == 1
        member = guild.get_member(sandbox.member_id)
        assert member is not None and member.name == "tester"
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)
