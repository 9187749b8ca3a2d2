"""The page's server side over HTTP: the live stream, who sees what, acting as a member, and refusals.
The bot here is a small real discord.py bot (`form_bot`), or plain REST calls made the way it makes them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.sandbox import SandboxServer
from bot.sandbox.interactions import MODAL_SUBMIT
from bot.sandbox.web.demo import Cast
from tests.bot.sandbox.conftest import TOKEN
from tests.bot.sandbox.web.form_bot import FormBot

JSON = dict[str, Any]
BOT = {"Authorization": f"Bot {TOKEN}"}


class Stream:
    """A page's server-sent-event stream, read event by event."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 5.0) -> tuple[str, JSON]:
        async def read() -> tuple[str, JSON]:
            event, data = "message", ""
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\n")
                if line.startswith(":"):
                    continue
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif line == "" and data:
                    return event, json.loads(data)

        return await asyncio.wait_for(read(), timeout)

    async def until(
        self, kind: str, check: Callable[[JSON], bool] = lambda _: True, timeout: float = 5.0
    ) -> JSON:
        deadline = time.monotonic() + timeout
        while True:
            event, data = await self.next(max(0.05, deadline - time.monotonic()))
            if event == kind and check(data):
                return data


@asynccontextmanager
async def live(sandbox: SandboxServer, member: int) -> AsyncIterator[tuple[Stream, JSON]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sandbox.base_url}/_sandbox/web/live?member={member}") as response,
    ):
        assert response.status == 200 and response.content_type == "text/event-stream"
        stream = Stream(response)
        event, snapshot = await stream.next()
        assert event == "snapshot"
        yield stream, snapshot


async def web_post(sandbox: SandboxServer, route: str, body: JSON, **headers: str) -> tuple[int, JSON]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.base_url}/_sandbox/web/{route}", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def bot_post(sandbox: SandboxServer, channel: int, payload: JSON) -> JSON:
    async with (
        aiohttp.ClientSession(headers=BOT) as http,
        http.post(f"{sandbox.api_base}/channels/{channel}/messages", json=payload) as response,
    ):
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(sandbox.page_url) as page:
            assert page.status == 200 and "text/html" in page.headers["Content-Type"]
            policy = page.headers["Content-Security-Policy"]
            assert "connect-src 'self'" in policy and "default-src 'self'" in policy
            html = await page.text()
        for asset in ("app.js", "render.js", "composer.js", "panel.js", "markdown.js", "style.css"):
            assert f"/_sandbox/web/static/{asset}" in html
            async with http.get(f"{sandbox.base_url}/_sandbox/web/static/{asset}") as response:
                assert response.status == 200, asset
        async with http.get(f"{sandbox.base_url}/_sandbox/web/static/..%2Fpage.py") as response:
            assert response.status == 404
        async with http.get(sandbox.page_url, headers={"Host": "rebound.example:80"}) as response:
            assert response.status == 403  # a rebinding DNS name cannot reach a loopback sandbox


async def test_the_stream_pushes_messages_edits_and_deletions_with_when_they_arrived(
    sandbox: SandboxServer, cast: Cast
) -> None:
    async with live(sandbox, cast.members[0]) as (stream, snapshot):
        assert snapshot["viewer"] == str(cast.members[0])
        assert {c["name"] for c in snapshot["channels"]} >= {"general", "after-dark", "challenge-entries"}
        before = time.time() * 1000
        posted = await bot_post(sandbox, sandbox.channel_id, {"content": "hello"})
        created = await stream.until("message", lambda d: d["message"]["id"] == posted["id"])
        assert before <= created["t"] <= time.time() * 1000 and created["message"]["content"] == "hello"
        async with (
            aiohttp.ClientSession(headers=BOT) as http,
            http.patch(
                f"{sandbox.api_base}/channels/{sandbox.channel_id}/messages/{posted['id']}",
                json={"content": "edited"},
            ) as response,
        ):
            assert response.status == 200
        edited = await stream.until("message", lambda d: d["message"]["id"] == posted["id"])
        assert edited["message"]["content"] == "edited" and edited["message"]["edited_timestamp"]
        async with (
            aiohttp.ClientSession(headers=BOT) as http,
            http.delete(f"{sandbox.api_base}/channels/{sandbox.channel_id}/messages/{posted['id']}"),
        ):
            pass
        gone = await stream.until("delete")
        assert gone == {"id": posted["id"], "channel_id": str(sandbox.channel_id), "t": gone["t"]}


async def test_attachment_urls_are_relative_so_any_local_address_works(
    sandbox: SandboxServer, cast: Cast
) -> None:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"embeds": [{"image": {"url": "attachment://a.png"}}]}))
    form.add_field("files[0]", b"\x89PNG", filename="a.png", content_type="image/png")
    async with (
        aiohttp.ClientSession(headers=BOT) as http,
        http.post(f"{sandbox.api_base}/channels/{sandbox.channel_id}/messages", data=form) as response,
    ):
        assert response.status == 200
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.base_url}/_sandbox/web/messages?member={cast.members[0]}&channel_id={sandbox.channel_id}"
        async with http.get(url) as response:
            (message,) = await response.json()
    assert message["attachments"][0]["url"].startswith("/_sandbox/attachments/")


async def test_ephemeral_replies_reach_only_their_member_and_hidden_channels_stay_hidden(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot
) -> None:
    ada, basho = cast.members
    async with live(sandbox, ada) as (ada_stream, _), live(sandbox, basho) as (basho_stream, basho_view):
        assert "moderators" not in {c["name"] for c in basho_view["channels"]}
        assert "secret" not in {c["name"] for c in basho_view["commands"]}  # default_member_permissions
        status, answer = await web_post(
            sandbox, "command", {"member": ada, "name": "echo", "options": {"text": "hush", "private": True}}
        )
        assert status == 200 and answer["response_type"] == 4
        mine = await ada_stream.until("message")
        assert mine["message"]["flags"] & 64 and mine["message"]["ephemeral_for"] == str(ada)
        public = await bot_post(sandbox, sandbox.channel_id, {"content": "for everyone"})
        first_for_basho = await basho_stream.until("message")
        assert first_for_basho["message"]["id"] == public["id"]  # the ephemeral one never reached basho
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.base_url}/_sandbox/web/messages?member={basho}") as response:
            assert "hush" not in json.dumps(await response.json())
        async with http.get(f"{sandbox.base_url}/_sandbox/web/messages?member={ada}") as response:
            assert "hush" in json.dumps(await response.json())
    status, _ = await web_post(
        sandbox, "post", {"member": basho, "channel_id": cast.moderators, "content": "hi"}
    )
    assert status == 403
    async with live(sandbox, cast.moderator) as (_, moderator_view):
        assert "moderators" in {c["name"] for c in moderator_view["channels"]}
        assert "secret" in {c["name"] for c in moderator_view["commands"]}


async def test_a_modal_and_a_select_menu_round_trip_through_discord_py(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot
) -> None:
    ada = cast.members[0]
    status, opened = await web_post(sandbox, "command", {"member": ada, "name": "form"})
    assert status == 200 and opened["response_type"] == 9
    assert opened["modal"]["title"] == "Your entry"
    status, _ = await web_post(
        sandbox,
        "modal",
        {"member": cast.members[1], "interaction_id": opened["id"], "values": {"title": "x"}},
    )
    assert status == 404  # only the member who opened a modal submits it
    status, submitted = await web_post(
        sandbox, "modal", {"member": ada, "interaction_id": opened["id"], "values": {"title": "Rain"}}
    )
    assert status == 200 and submitted["type"] == MODAL_SUBMIT and submitted["response_type"] == 4
    saved = await sandbox.wait_for_message(lambda m: "Entry saved" in m["content"])
    assert saved["content"] == "Entry saved: Rain (first draft)"  # the untouched input kept its default

    await web_post(sandbox, "command", {"member": ada, "name": "pick"})
    menu = await sandbox.wait_for_message(lambda m: m["content"] == "Choose one:")
    status, _ = await web_post(
        sandbox,
        "select",
        {"member": ada, "message_id": menu["id"], "custom_id": "flavour-pick", "values": ["beer"]},
    )
    assert status == 400
    status, chose = await web_post(
        sandbox,
        "select",
        {"member": ada, "message_id": menu["id"], "custom_id": "flavour-pick", "values": ["mint"]},
    )
    assert status == 200 and chose["response_type"] == 7
    assert sandbox.messages()[-1]["content"] == "ada picked mint"


async def test_autocomplete_returns_the_bots_choices_and_options_are_checked(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot
) -> None:
    ada = cast.members[0]
    status, answer = await web_post(
        sandbox,
        "autocomplete",
        {"member": ada, "name": "echo", "options": {"flavour": "m"}, "focused": "flavour"},
    )
    assert status == 200 and [c["value"] for c in answer["choices"]] == ["mint"]
    status, refused = await web_post(
        sandbox, "command", {"member": ada, "name": "echo", "options": {"text": "x", "count": 9}}
    )
    assert status == 400 and "outside" in refused["message"]


async def test_requests_from_other_sites_and_strangers_are_refused(
    sandbox: SandboxServer, cast: Cast
) -> None:
    body = {"member": cast.members[0], "content": "hi"}
    status, _ = await web_post(sandbox, "post", body, Origin="https://elsewhere.example")
    assert status == 403
    stranger = sandbox.world.add_user("stranger")  # a user, but not a member of the guild
    status, _ = await web_post(sandbox, "post", {"member": stranger, "content": "hi"})
    assert status == 403
    status, _ = await web_post(sandbox, "post", {"member": sandbox.bot_user_id, "content": "hi"})
    assert status == 403
    status, posted = await web_post(sandbox, "post", body, Origin=sandbox.base_url)
    assert status == 200 and posted["author"]["username"] == "ada"


async def test_the_status_source_feeds_the_panel_and_its_failures_are_shown(
    sandbox: SandboxServer, cast: Cast
) -> None:
    calls: list[int] = []

    async def source() -> JSON:
        calls.append(1)
        if len(calls) > 2:
            raise ConnectionError("redis went away")
        return {
            "available": True,
            "queues": [{"name": "gen.text", "jobs": []}],
            "workers": [],
            "recent": [],
            "n": len(calls),
        }

    sandbox.page.status_source = source
    async with live(sandbox, cast.owner) as (stream, snapshot):
        assert snapshot["status"]["available"] is True
        failed = await stream.until("status", lambda s: s["available"] is False, timeout=6)
        assert "ConnectionError" in failed["note"]


async def test_the_control_api_submits_modals_and_chooses_in_selects_too(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot
) -> None:
    ada = cast.members[0]
    opened = await sandbox.send_slash_command("form", user=ada)
    await sandbox.wait_for_response(opened, 3)
    async with aiohttp.ClientSession() as http:
        body = {"interaction_id": str(opened.id), "values": {"title": "By API"}}
        async with http.post(f"{sandbox.base_url}/_sandbox/modals", json=body) as response:
            assert response.status == 200
        await sandbox.wait_for_message(lambda m: m["content"] == "Entry saved: By API (first draft)")
        menu = await sandbox.send_slash_command("pick", user=ada)
        await sandbox.wait_for_response(menu, 3)
        body = {
            "message_id": str(menu.original_message_id),
            "custom_id": "flavour-pick",
            "values": ["plum"],
            "user_id": str(ada),
        }
        async with http.post(f"{sandbox.base_url}/_sandbox/selects", json=body) as response:
            assert response.status == 200
        async with http.get(f"{sandbox.base_url}/_sandbox/state") as response:
            assert (await response.json())["page_url"] == sandbox.page_url
    await sandbox.wait_for_message(lambda m: m["content"] == "ada picked plum")
