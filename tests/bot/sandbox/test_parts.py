"""The sandbox's pieces on their own: routing patterns, faults, option building, messages, CLI, env."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord.gateway
import discord.http
import pytest

from bot.sandbox import SandboxServer, point_discord_from_env, snowflake
from bot.sandbox.__main__ import banner, parse_args
from bot.sandbox.commands import (
    CommandRegistry,
    OptionError,
    OptionResolvers,
    UnknownCommand,
    command_options,
)
from bot.sandbox.messages import MessageFactory, apply_mentions
from bot.sandbox.rules import FaultInjector, route_matches
from bot.sandbox.snowflake import SnowflakeFactory, snowflake_time_ms
from bot.sandbox.store import AttachmentStore, UploadedFile


@pytest.mark.parametrize(
    ("pattern", "method", "path", "expected"),
    [
        ("POST /channels/*/messages", "POST", "/channels/1/messages", True),
        ("POST /channels/*/messages", "GET", "/channels/1/messages", False),
        ("/webhooks/*", "PATCH", "/webhooks/1/tok/messages/@original", True),
        ("* /users/@me", "GET", "/users/@me", True),
        ("GET /users/@me", "GET", "/users/1", False),
    ],
)
def test_route_patterns(pattern: str, method: str, path: str, expected: bool) -> None:
    assert route_matches(pattern, method, path) is expected


def test_faults_are_consumed_in_order() -> None:
    faults = FaultInjector()
    faults.add_failures("GET /a", 502, count=2)
    faults.add_rate_limit("GET /*", retry_after=0.5)
    taken = [faults.take("GET", "/a") for _ in range(4)]
    assert [f.status if f else None for f in taken] == [502, 502, 429, None]
    assert faults.pending == []
    with pytest.raises(ValueError):
        faults.add_failures("GET /a", 200)


def test_snowflakes_increase_and_carry_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_767_225_600.5]  # a clock the test moves, so nothing depends on how fast this runs
    monkeypatch.setattr(snowflake.time, "time", lambda: now[0])
    ids = SnowflakeFactory()
    first, second = ids.next(), ids.next()  # the same millisecond
    assert second > first
    assert snowflake_time_ms(first) == snowflake_time_ms(second) == 1_767_225_600_500
    now[0] += 2.25
    later = ids.next()
    assert later > second and snowflake_time_ms(later) == 1_767_225_602_750
    now[0] -= 60  # the clock steps back: ids still increase
    assert ids.next() > later


def registry_with(options: list[dict[str, object]]) -> CommandRegistry:
    registry = CommandRegistry(SnowflakeFactory(), application_id=1)
    registry.overwrite([{"name": "art", "description": "d", "options": options}])
    return registry


RESOLVERS = OptionResolvers(
    user=lambda uid: {"id": str(uid)} if uid == 7 else None,
    member=lambda uid: {"user": {"id": str(uid)}, "roles": []} if uid == 7 else None,
    channel=lambda cid: None,
    role=lambda rid: None,
    attachment=lambda value: {"id": "99", "filename": "a.png"},
)


def test_subcommands_choices_and_resolved_users() -> None:
    sub = {
        "type": 1,
        "name": "draw",
        "description": "d",
        "options": [
            {"type": 3, "name": "style", "description": "d", "choices": [{"name": "Ink", "value": "ink"}]},
            {"type": 6, "name": "for", "description": "d"},
            {"type": 10, "name": "scale", "description": "d", "min_value": 0.5, "max_value": 2},
            {"type": 11, "name": "ref", "description": "d"},
        ],
    }
    command = registry_with([sub]).find("art", guild_id=None)
    resolved: dict[str, object] = {}
    given = {"style": "ink", "for": 7, "scale": 1.5, "ref": b"ignored"}
    built = command_options(command, ["draw"], given, RESOLVERS, resolved)
    assert built[0]["name"] == "draw" and built[0]["type"] == 1
    assert [(o["name"], o["value"]) for o in built[0]["options"]] == [
        ("style", "ink"),
        ("for", "7"),
        ("scale", 1.5),
        ("ref", "99"),
    ]
    assert set(resolved) == {"users", "members", "attachments"}
    with pytest.raises(OptionError, match="choices"):
        command_options(command, ["draw"], {"style": "oil"}, RESOLVERS, {})
    with pytest.raises(OptionError, match="outside"):
        command_options(command, ["draw"], {"scale": 3}, RESOLVERS, {})
    with pytest.raises(OptionError, match="unknown user"):
        command_options(command, ["draw"], {"for": 8}, RESOLVERS, {})
    with pytest.raises(OptionError, match="subcommand"):
        command_options(command, [], {}, RESOLVERS, {})
    with pytest.raises(UnknownCommand):
        command_options(command, ["erase"], {}, RESOLVERS, {})


def test_overwrite_keeps_ids_of_unchanged_names() -> None:
    registry = CommandRegistry(SnowflakeFactory(), application_id=1)
    [first] = registry.overwrite([{"name": "a", "description": "x"}], guild_id=5)
    [again, new] = registry.overwrite(
        [{"name": "a", "description": "y"}, {"name": "b", "description": "z"}], 5
    )
    assert again["id"] == first["id"] and new["id"] != first["id"]
    assert again["guild_id"] == "5" and registry.listing() == []


def test_edits_keep_listed_attachments_and_add_new_files() -> None:
    factory = MessageFactory(SnowflakeFactory(), AttachmentStore(), lambda: "http://x", users={})
    first = UploadedFile("files[0]", "a.txt", "text/plain", b"a")
    message = factory.create(
        channel_id=1, guild_id=None, author={"id": "1"}, payload={"content": "hi"}, files=(first,)
    )
    [kept] = message.data["attachments"]
    second = UploadedFile("files[0]", "b.txt", "text/plain", b"bb")
    payload = {"attachments": [{"id": kept["id"]}, {"id": 0, "filename": "renamed.txt"}]}
    changes = factory.edit_changes(message.data, payload, (second,))
    assert [a["filename"] for a in changes["attachments"]] == ["a.txt", "renamed.txt"]
    dropped = factory.edit_changes(message.data, {"attachments": []}, ())
    assert dropped["attachments"] == []


def test_mentions_follow_allowed_mentions() -> None:
    users = {5: {"id": "5"}, 6: {"id": "6"}}
    data: dict[str, Any] = {"content": "<@5> <@!6> <@9> @everyone"}
    apply_mentions(data, None, users)
    assert [u["id"] for u in data["mentions"]] == ["5", "6"] and data["mention_everyone"] is True
    apply_mentions(data, {"parse": [], "users": ["6"]}, users)
    assert [u["id"] for u in data["mentions"]] == ["6"] and data["mention_everyone"] is False


def test_env_points_discord_at_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    )
    monkeypatch.delenv("DISCORD_API_BASE", raising=False)
    monkeypatch.delenv("DISCORD_GATEWAY_URL", raising=False)
    assert point_discord_from_env() is False
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10/")
    monkeypatch.setenv("DISCORD_GATEWAY_URL", "ws://127.0.0.1:9/gateway")
    assert point_discord_from_env() is True
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"


def test_cli_defaults_and_banner() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.token) == ("127.0.0.1", 8765, None)
    server = SandboxServer(port=8765)
    text = banner(server)
    assert "export DISCORD_API_BASE=http://127.0.0.1:8765/api/v10" in text
    assert "export DISCORD_GATEWAY_URL=ws://127.0.0.1:8765/gateway" in text


async def test_rest_answers_like_discord(sandbox: SandboxServer) -> None:
    auth = {"Authorization": f"Bot {sandbox.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(sandbox.api_base + "/users/@me") as response:
            assert response.status == 401 and (await response.json())["code"] == 0
        async with http.get(sandbox.api_base + "/users/@me", headers=auth) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert "X-RateLimit-Bucket" in response.headers
            assert (await response.json())["id"] == str(sandbox.bot_user_id)
        async with http.get(sandbox.api_base + "/no/such/route", headers=auth) as response:
            assert response.status == 404 and response.headers["Content-Type"] == "application/json"
        async with http.post(
            sandbox.api_base + f"/channels/{sandbox.channel_id}/messages", headers=auth
        ) as response:
            assert response.status == 400 and (await response.json())["code"] == 50006
        async with http.post(sandbox.api_base + "/webhooks/1/bogus", json={"content": "x"}) as response:
            assert response.status == 401 and (await response.json())["code"] == 50027
    assert [r.status for r in sandbox.requests] == [401, 200, 404, 400, 401]
