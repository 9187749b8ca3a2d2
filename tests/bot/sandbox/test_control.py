"""The ``/_sandbox`` control API, driven over HTTP as another process would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import SandboxServer
from tests.bot.sandbox.art_bot import PNG, ArtBot


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def test_state_describes_the_sandbox(sandbox: SandboxServer, http: aiohttp.ClientSession) -> None:
    status, state = await call(http, "GET", sandbox.base_url + "/_sandbox/state")
    assert status == 200
    assert state["api_base"] == sandbox.api_base and state["gateway_url"] == sandbox.gateway_url
    assert (state["guild_id"], state["channel_id"]) == (str(sandbox.guild_id), str(sandbox.channel_id))
    assert state["sessions"] == 0


async def test_interaction_message_and_button_over_http(
    sandbox: SandboxServer, art_bot: ArtBot, http: aiohttp.ClientSession
) -> None:
    base = sandbox.base_url + "/_sandbox"
    async with http.post(base + "/attachments", params={"filename": "ref.png"}, data=PNG) as response:
        attachment = await response.json()
    async with http.get(attachment["url"]) as response:
        assert await response.read() == PNG
    body = {"name": "paint", "options": {"prompt": "moss", "reference": attachment}, "wait": 5}
    status, interaction = await call(http, "POST", base + "/interactions", json=body)
    assert status == 200 and interaction["responded"] and interaction["response_type"] == 5
    await sandbox.wait_for_message(lambda m: m["content"] == "moss in 20 steps")
    status, messages = await call(
        http, "GET", base + "/messages", params={"channel_id": str(sandbox.channel_id)}
    )
    [message] = messages
    assert message["id"] == interaction["original_message_id"]
    assert art_bot.references == [PNG]

    click = {"message_id": message["id"], "custom_id": "again"}
    status, clicked = await call(http, "POST", base + "/buttons", json=click)
    assert status == 200
    handle = sandbox.core.interactions.get(int(clicked["id"]))
    assert handle is not None
    await sandbox.wait_for_response(handle)
    status, polled = await call(http, "GET", base + f"/interactions/{clicked['id']}")
    assert polled["response_type"] == 4


async def test_bad_interaction_requests_are_400(
    sandbox: SandboxServer, art_bot: ArtBot, http: aiohttp.ClientSession
) -> None:
    base = sandbox.base_url + "/_sandbox"
    status, body = await call(http, "POST", base + "/interactions", json={"name": "nope"})
    assert status == 400 and "nope" in body["message"]
    status, body = await call(
        http, "POST", base + "/interactions", json={"name": "ping", "options": {"x": 1}}
    )
    assert status == 400 and "unknown option" in body["message"]
    status, body = await call(http, "POST", base + "/buttons", json={"message_id": "1", "custom_id": "a"})
    assert status == 400


async def test_faults_and_gateway_actions_over_http(
    sandbox: SandboxServer, art_bot: ArtBot, http: aiohttp.ClientSession
) -> None:
    base = sandbox.base_url + "/_sandbox"
    status, _ = await call(http, "POST", base + "/faults", json={"route": "GET /users/@me", "status": 503})
    assert status == 200
    headers = {"Authorization": f"Bot {sandbox.token}"}
    async with http.get(sandbox.api_base + "/users/@me", headers=headers) as response:
        assert response.status == 503
    async with http.get(sandbox.api_base + "/users/@me", headers=headers) as response:
        assert response.status == 200
    status, dropped = await call(http, "POST", base + "/gateway/drop")
    assert dropped == {"action": "drop", "sessions": 1}
    await sandbox.wait_for_gateway("resume")
    status, requests = await call(http, "GET", base + "/requests")
    assert [r["status"] for r in requests if r["path"] == "/users/@me"][-2:] == [503, 200]


async def test_a_repeated_post_with_enforce_nonce_returns_the_first_message(
    sandbox: SandboxServer, art_bot: ArtBot
) -> None:
    channel = art_bot.get_partial_messageable(sandbox.channel_id, guild_id=sandbox.guild_id)
    first = await channel.send("the result", nonce="job-4f2a")  # discord.py sets enforce_nonce
    again = await channel.send("the result", nonce="job-4f2a")
    other = await channel.send("another result", nonce="job-9c01")
    assert again.id == first.id and other.id != first.id
    contents = [m["content"] for m in sandbox.messages(sandbox.channel_id)]
    assert contents.count("the result") == 1 and contents.count("another result") == 1
