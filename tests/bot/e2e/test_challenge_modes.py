"""Challenge voting modes and places: a judges' panel (scores locked on submit, the result as soon as
every judge has submitted), ranked choices, entries as forum posts, reminders, and two servers running
challenges at once without leaking into each other."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.challenges.model import Phase
from bot.challenges.repository import Refusal
from bot.sandbox import SandboxServer
from tests.bot.e2e.test_bad_input import publish_globally
from tests.bot.e2e.test_challenge import Scheduler, click, custom_ids, finished_text_job, member
from tests.bot.e2e.test_config import answer
from tests.polling import wait_until


async def create(sandbox: SandboxServer, **options: Any) -> dict[str, Any]:
    base = {
        "title": "Cover art",
        "brief": "An imaginary album cover.",
        "channel": str(sandbox.channel_id),
        "kind": "text",
    }
    return await answer(
        sandbox, "challenge create", {**base, **options}, channel=options.pop("from_channel", None)
    )


async def enter_two(bot: AtelierBot, sandbox: SandboxServer, challenge_id: int) -> tuple[int, int]:
    alice, bob = await member(sandbox, "alice"), await member(sandbox, "bob")
    for who, text in ((alice, "Blue Hour"), (bob, "Salt and Iron")):
        job, _ = await finished_text_job(bot, sandbox, who, "an album", text)
        await answer(sandbox, "challenge submit", {"challenge": challenge_id, "job": job}, user=who)
    return alice, bob


async def test_a_judges_panel_locks_scores_and_closes_when_every_judge_has_submitted(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    judge = await member(sandbox, "judge")
    await create(sandbox, voting="judges", judges=f"<@{judge}>", criteria="Idea:1-5, Craft:0-10")
    service = bot.services.extras["challenges"]
    challenge = (await service.repository.for_guild(sandbox.guild_id))[0]
    alice, bob = await enter_two(bot, sandbox, challenge.id)
    scheduler = Scheduler(bot)
    await scheduler.at(challenge.voting_at)
    voting = await sandbox.wait_for_message(lambda m: "voting is open" in str(m.get("embeds")), 10)
    assert "no running tally" not in str(voting)  # nothing of the count is shown
    entries = {e.member_id: e for e in await service.repository.entries(challenge.id)}

    refused = await sandbox.click_button(voting, f"chal:ballot:{challenge.id}", user=alice)
    await sandbox.wait_for_response(refused, 5)
    assert not any(c.startswith("chal:score:") for c in custom_ids(refused.response_data or {}))

    live = await service.repository.get(challenge.id)
    await service.repository.score(live, entries[alice].id, judge, {"Idea": 2, "Craft": 3})
    await service.repository.score(live, entries[bob].id, judge, {"Idea": 5, "Craft": 9})
    with pytest.raises(Refusal) as not_an_entry:  # a crafted score button: no such entry here
        await service.repository.score(live, 0, judge, {"Idea": 3})
    assert not_an_entry.value.reason == "challenge.no_entry"
    ballot = await sandbox.click_button(voting, f"chal:ballot:{challenge.id}", user=judge)
    await sandbox.wait_for_response(ballot, 5)
    page = ballot.response_data or {}
    assert f"chal:lock:{challenge.id}" in custom_ids(page)
    assert "locked" in await click(
        sandbox, ballot.original_message_id or 0, f"chal:lock:{challenge.id}", user=judge
    )
    results = await sandbox.wait_for_message(lambda m: "Results of" in str(m.get("embeds")), 10)
    first = results["embeds"][0]["description"].splitlines()[0]
    assert first.startswith("🥇") and f"<@{bob}>" in first
    assert (await service.repository.get(challenge.id)).phase is Phase.CLOSED
    closed = await service.repository.get(challenge.id)
    try:
        await service.repository.score(closed, entries[bob].id, judge, {"Idea": 1})
    except Exception as refusal:
        assert "not_voting" in str(refusal) or "scores_locked" in str(refusal)
    else:
        raise AssertionError("a locked score changed")


async def test_ranked_choices_forum_posts_and_reminders(bot: AtelierBot, sandbox: SandboxServer) -> None:
    forum = await sandbox.create_channel("entries", forum=True)
    await create(sandbox, voting="ranked", channel=str(forum))
    service = bot.services.extras["challenges"]
    challenge = (await service.repository.for_guild(sandbox.guild_id))[0]
    assert challenge.forum
    await answer(sandbox, "challenge remind", {"challenge": challenge.id, "on": True})
    alice, bob = await enter_two(bot, sandbox, challenge.id)
    scheduler = Scheduler(bot)
    await scheduler.at(challenge.voting_at - timedelta(hours=1))  # the reminder is 12 hours before
    reminder = await wait_until(
        lambda: next(
            (m for m in sandbox.messages(sandbox.dm_channel_id) if "closes for entries" in m["content"]), None
        ),
        10,
    )
    assert "Cover art" in reminder["content"]
    await scheduler.at(challenge.voting_at)

    def threads() -> list[int]:
        return [cid for cid, c in sandbox.world.channels.items() if c.get("parent_id") == str(forum)]

    posted = await wait_until(lambda: threads() if len(threads()) == 2 else None, 10)
    entries = {e.member_id: e for e in await service.repository.entries(challenge.id)}
    post_of = {}
    for thread in posted:
        message = sandbox.messages(thread)[0]
        assert "alice" not in str(message) and "bob" not in str(message)
        post_of[
            next(
                e for e in entries.values() if f"chal:vote:{challenge.id}:{e.id}:1" in custom_ids(message)
            ).member_id
        ] = message
    voter = await member(sandbox, "voter")
    assert "choice number 1" in await click(
        sandbox, post_of[alice], f"chal:vote:{challenge.id}:{entries[alice].id}:1", user=voter
    )
    assert "choice number 2" in await click(
        sandbox, post_of[bob], f"chal:vote:{challenge.id}:{entries[bob].id}:2", user=voter
    )
    # moving first place to bob takes it from alice
    assert "choice number 1" in await click(
        sandbox, post_of[bob], f"chal:vote:{challenge.id}:{entries[bob].id}:1", user=voter
    )
    assert await service.repository.ballot(challenge.id, voter) == {entries[bob].id: 1}
    await scheduler.at(challenge.closes_at)
    results = await sandbox.wait_for_message(lambda m: "Results of" in str(m.get("embeds")), 10)
    assert (
        f"<@{bob}>" in results["embeds"][0]["description"].splitlines()[0]
        and "3 points" in results["embeds"][0]["description"]
    )


async def test_two_servers_run_challenges_at_once_apart(bot: AtelierBot, sandbox: SandboxServer) -> None:
    other = await sandbox.create_guild("Second server")
    publish_globally(sandbox)
    there = int(sandbox.world.guilds[other].channels[0]["id"])
    await create(sandbox)
    await answer(
        sandbox,
        "challenge create",
        {"title": "Elsewhere", "brief": "b", "channel": str(there), "kind": "text"},
        channel=there,
    )
    service = bot.services.extras["challenges"]
    here_c = (await service.repository.for_guild(sandbox.guild_id))[0]
    there_c = (await service.repository.for_guild(other))[0]
    assert (here_c.title, there_c.title) == ("Cover art", "Elsewhere")
    job, final = await finished_text_job(bot, sandbox, sandbox.member_id, "an album", "Blue Hour")
    wrong = await answer(sandbox, "challenge submit", {"challenge": there_c.id, "job": job})
    assert "no live challenge" in wrong["content"]  # another server's challenge is not found here
    assert "You're in" in await click(sandbox, final, f"chal:submit:{job}")
    assert await service.repository.entries(there_c.id) == []
    assert len(await service.repository.entries(here_c.id)) == 1
