"""Challenge votes and button interactions on the bot's `/metrics`: the real bot (in this process)
against the sandbox Discord, a challenge taken to its voting phase by the timer runner, votes
clicked, and the counts read back over HTTP from the endpoint the bot serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.sandbox import SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from config.settings import Settings
from tests.bot.e2e.conftest import TOKEN, BotControl
from tests.bot.e2e.test_challenge import Scheduler, click, custom_ids, member
from tests.bot.e2e.test_config import answer
from tests.helpers.scrape import Scrape, scrape
from tests.polling import wait_until
from tests.services import free_port


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    saved = current_endpoints()
    async with SandboxServer(token=TOKEN) as server:
        point_discord_at(server.api_base, server.gateway_url)
        yield server
    restore_endpoints(saved)


@pytest.fixture
async def metered(sandbox: SandboxServer, settings: Settings) -> AsyncIterator[tuple[BotControl, int]]:
    port = free_port()
    metrics = settings.metrics.model_copy(update={"bot_port": port, "refresh_s": 0.5})
    control = BotControl(sandbox, settings.model_copy(update={"metrics": metrics}))
    await control.start()
    yield control, port
    await control.stop()


async def scraped(port: int, check: Callable[[Scrape], bool]) -> Scrape:
    async def attempt() -> Scrape | None:
        found = await asyncio.to_thread(scrape, port)
        return found if found is not None and check(found) else None

    result: Scrape = await wait_until(attempt, 30, interval=0.2)
    return result


async def test_votes_are_counted_by_outcome(metered: tuple[BotControl, int], sandbox: SandboxServer) -> None:
    control, port = metered
    bot = control.bot
    assert bot is not None
    before = await scraped(port, lambda s: True)  # the counters are this test process's: count from here
    alice, bob = [await member(sandbox, name) for name in ("alice", "bob")]
    await answer(
        sandbox,
        "challenge create",
        {
            "title": "Haiku",
            "brief": "Three lines.",
            "channel": str(sandbox.channel_id),
            "kind": "text",
            "entries_hours": 1,
            "voting_hours": 1,
            "uploads": True,
        },
    )
    challenge = (await bot.services.extras["challenges"].repository.for_guild(sandbox.guild_id))[0]
    for who, text in ((alice, b"old pond"), (bob, b"autumn moon")):
        entered = await answer(
            sandbox,
            "challenge submit",
            {"challenge": challenge.id, "caption": "mine"},
            user=who,
            attachments={"file": ("haiku.txt", text, "text/plain")},
        )
        assert "You're in" in entered["content"]
    await Scheduler(bot).at(challenge.voting_at)

    def entry_posts() -> list[dict[str, Any]] | None:
        found = [m for m in sandbox.messages() if "Entry " in str(m.get("embeds"))]
        return found if len(found) == 2 else None

    posts = await wait_until(entry_posts, 10)
    entries = {
        e.member_id: e for e in await bot.services.extras["challenges"].repository.entries(challenge.id)
    }
    vote_id = {who: f"chal:vote:{challenge.id}:{entries[who].id}:0" for who in (alice, bob)}
    post = {who: next(p for p in posts if vote_id[who] in custom_ids(p)) for who in (alice, bob)}

    assert "in" in await click(sandbox, post[alice], vote_id[alice])  # the sandbox's member votes
    assert "already voted" in await click(sandbox, post[alice], vote_id[alice])
    await click(sandbox, post[alice], vote_id[alice], user=alice)  # one's own entry: refused

    def moved(s: Scrape, metric: str, **labels: str) -> float:
        return (s.value(metric, **labels) or 0) - (before.value(metric, **labels) or 0)

    found = await scraped(
        port, lambda s: moved(s, "atelier_votes_total", outcome="refused", reason="challenge.own_entry") == 1
    )
    assert moved(found, "atelier_votes_total", outcome="recorded", reason="") == 1
    assert moved(found, "atelier_votes_total", outcome="unchanged", reason="") == 1
    assert moved(found, "atelier_interactions_total", type="component", name="chal:vote") == 3
    assert moved(found, "atelier_interaction_defer_seconds_count", type="component") == 3
    assert moved(found, "atelier_interactions_total", type="command", name="challenge create") == 1
