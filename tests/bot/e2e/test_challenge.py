"""A challenge's whole life through the local Discord server and the real bot, with the timers fired
by a scheduler on a clock the test moves: create → entries (from the result button, from a job, by
upload) → blind voting (double votes, self-votes, ineligible voters, late entries, a withdrawn and a
removed entry, a restart of the bot in the middle) → results; and two servers at once."""

from __future__ import annotations

from typing import Any

import redis

from bot.app import AtelierBot
from bot.challenges.model import Phase
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from bot.scheduling.clock import ManualClock
from bot.scheduling.handlers import default_handlers
from bot.scheduling.repository import TimerRepository
from bot.scheduling.runner import TimerRunner
from tests.bot.e2e.conftest import BotControl, wait_for_job
from tests.bot.e2e.test_config import answer
from tests.polling import wait_until
from wire.artifacts import make_store
from wire.contract import JobResult, Outcome, ResultEvent, utcnow
from wire.events import EventPublisher


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


class Scheduler:
    """The scheduler process's timer runner, in the test, on a clock the test moves."""

    def __init__(self, bot: AtelierBot) -> None:
        self.clock = ManualClock(utcnow())
        self.bot = bot
        self.runner = self._runner()

    def _runner(self) -> TimerRunner:
        database = self.bot.services.database
        return TimerRunner(
            TimerRepository(database, self.clock),
            default_handlers(),
            self.clock,
            owner="test-scheduler",
            services={"runtime": self.bot.runtime, "database": database},
        )

    async def at(self, when: Any) -> None:
        self.clock.set(when)
        await self.runner.run_once()

    def rebind(self, bot: AtelierBot) -> None:
        self.bot = bot
        self.runner = self._runner()


async def member(sandbox: SandboxServer, name: str) -> int:
    user = sandbox.world.add_user(name)
    sandbox.world.add_member(sandbox.guild_id, user)
    return user


async def finished_text_job(
    bot: AtelierBot, sandbox: SandboxServer, user: int, prompt: str, text: str
) -> tuple[str, dict[str, Any]]:
    """A /write job of `user`, finished as a worker would finish it; its delivered message."""
    handle = await sandbox.send_slash_command("write", {"prompt": prompt}, user=user)
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    ref = make_store(bot.settings).put(job_id, "poem.txt", "text/plain", "text", text.encode())
    events = EventPublisher(redis.Redis.from_url(bot.settings.redis_url), bot.settings.events.stream, 1000)
    events.publish(
        ResultEvent(
            result=JobResult(job_id=job_id, status=Outcome.SUCCEEDED, artifacts=(ref,), text=text, worker="w")
        )
    )
    await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == int(queued["id"]) and f"atelier:delete:{job_id}" in custom_ids(m), 10
    )
    return job_id, final


async def click(
    sandbox: SandboxServer, message: dict[str, Any] | int, custom_id: str, user: int | None = None
) -> str:
    handle = await sandbox.click_button(message, custom_id, user=user)
    await sandbox.wait_for_response(handle, 5)
    return str((handle.response_data or {}).get("content", ""))


async def test_a_challenge_from_entries_to_results(bot_control: BotControl, sandbox: SandboxServer) -> None:
    bot = await bot_control.start()
    alice, bob, carol, newbie = [await member(sandbox, n) for n in ("alice", "bob", "carol", "newbie")]
    voters = await sandbox.create_role("voters")
    for someone in (alice, bob, carol, sandbox.member_id):
        sandbox.world.give_role(sandbox.guild_id, someone, voters)
    scheduler = Scheduler(bot)

    created = await answer(
        sandbox,
        "challenge create",
        {
            "title": "Sea shanty",
            "brief": "A sea shanty in four lines.",
            "channel": str(sandbox.channel_id),
            "kind": "text",
            "entries_hours": 1,
            "voting_hours": 1,
            "uploads": True,
            "role": str(voters),
        },
    )
    assert "Sea shanty" in created["content"] and "<t:" in created["content"]
    challenge = (await bot.services.extras["challenges"].repository.for_guild(sandbox.guild_id))[0]
    assert challenge.phase is Phase.OPEN
    opened = await sandbox.wait_for_message(lambda m: "is open for entries" in str(m.get("embeds")), 10)
    assert f"chal:remind:{challenge.id}" in custom_ids(opened)
    events = sandbox.guild_features.events[sandbox.guild_id]
    assert sorted(e["name"] for e in events.values()) == ["Sea shanty: entries", "Sea shanty: voting"]

    # entries: from the result's button, from a job, by upload, and refusals
    job_a, final_a = await finished_text_job(
        bot, sandbox, alice, "a shanty about rope", "Haul away, haul away"
    )
    assert f"chal:submit:{job_a}" in custom_ids(final_a)
    assert "You're in" in await click(sandbox, final_a, f"chal:submit:{job_a}", user=alice)
    assert "only enter your own" in await click(sandbox, final_a, f"chal:submit:{job_a}", user=bob)
    assert "already entered" in await click(sandbox, final_a, f"chal:submit:{job_a}", user=alice)
    job_b, _ = await finished_text_job(bot, sandbox, bob, "a shanty about the wind", "Blow, ye winds")
    entered = await answer(
        sandbox, "challenge submit", {"challenge": challenge.id, "job": job_b[:8]}, user=bob
    )
    assert "You're in" in entered["content"]
    uploaded = await answer(
        sandbox,
        "challenge submit",
        {"challenge": challenge.id, "caption": "my own"},
        user=carol,
        attachments={"file": ("shanty.txt", b"Leave her, Johnny", "text/plain")},
    )
    assert "You're in" in uploaded["content"]
    job_n, _ = await finished_text_job(bot, sandbox, newbie, "a shanty", "Yo ho")
    refused = await answer(
        sandbox, "challenge submit", {"challenge": challenge.id, "job": job_n}, user=newbie
    )
    assert "required role" in refused["content"]
    withdrawn_job, _ = await finished_text_job(
        bot, sandbox, sandbox.member_id, "a shanty", "Roll the old chariot"
    )
    await answer(sandbox, "challenge submit", {"challenge": challenge.id, "job": withdrawn_job})
    assert (
        "withdrawn" in (await answer(sandbox, "challenge withdraw", {"challenge": challenge.id}))["content"]
    )

    # voting opens on time: entries posted blind, late entries refused
    await scheduler.at(challenge.voting_at)
    voting = await sandbox.wait_for_message(lambda m: "voting is open" in str(m.get("embeds")), 10)

    def entry_posts() -> list[dict[str, Any]] | None:
        found = [m for m in sandbox.messages() if "Entry " in str(m.get("embeds"))]
        return found if len(found) == 3 else None

    posts = await wait_until(entry_posts, 10)
    assert all("alice" not in str(p) and "bob" not in str(p) for p in posts)
    assert {"AI-made", "human-made"} <= {e["title"].split(" · ")[1] for p in posts for e in p["embeds"]}
    late_job, _ = await finished_text_job(bot, sandbox, carol, "late", "too late")
    late = await answer(sandbox, "challenge submit", {"challenge": challenge.id, "job": late_job}, user=carol)
    assert "not taking entries" in late["content"]

    entries = {
        e.member_id: e for e in await bot.services.extras["challenges"].repository.entries(challenge.id)
    }
    vote = f"chal:vote:{challenge.id}:{{}}:0"
    post_of = {
        e.id: next(p for p in posts if f"chal:vote:{challenge.id}:{e.id}:0" in custom_ids(p))
        for e in entries.values()
    }
    assert "in" in await click(sandbox, post_of[entries[bob].id], vote.format(entries[bob].id), user=alice)
    assert "already voted" in await click(
        sandbox, post_of[entries[bob].id], vote.format(entries[bob].id), user=alice
    )
    assert "your own entry" in await click(
        sandbox, post_of[entries[alice].id], vote.format(entries[alice].id), user=alice
    )
    assert "required role" in await click(
        sandbox, post_of[entries[bob].id], vote.format(entries[bob].id), user=newbie
    )
    ballot = await sandbox.click_button(voting, f"chal:ballot:{challenge.id}", user=carol)
    await sandbox.wait_for_response(ballot, 5)
    data = ballot.response_data or {}
    assert data["flags"] & 64 and "entry 1 of 3" in data["embeds"][0]["title"]

    # the bot restarts in the middle of voting; votes go on
    await bot_control.stop()
    bot = await bot_control.start()
    scheduler.rebind(bot)
    assert "in" in await click(sandbox, post_of[entries[bob].id], vote.format(entries[bob].id), user=carol)
    assert "in" in await click(
        sandbox, post_of[entries[alice].id], vote.format(entries[alice].id), user=sandbox.member_id
    )
    assert "in" in await click(
        sandbox, post_of[entries[bob].id], vote.format(entries[bob].id), user=sandbox.member_id
    )
    removed = await answer(
        sandbox, "challenge remove", {"challenge": challenge.id, "entry": entries[carol].id}
    )
    assert "withdrawn" in removed["content"]

    # close: results, authors revealed, ties share a place
    await scheduler.at(challenge.closes_at)
    results = await sandbox.wait_for_message(lambda m: "Results of" in str(m.get("embeds")), 10)
    text = results["embeds"][0]["description"]
    assert text.splitlines()[0].startswith("🥇") and f"<@{bob}>" in text.splitlines()[0] and "3 votes" in text
    assert f"<@{carol}>" not in text  # removed: out of the tally
    assert any(a["filename"] == "results.png" for a in results["attachments"])
    await scheduler.at(challenge.closes_at)  # the timer firing again changes nothing
    assert len([m for m in sandbox.messages() if "Results of" in str(m.get("embeds"))]) == 1
    board = await answer(sandbox, "challenge leaderboard", {"challenge": challenge.id})
    assert board["embeds"][0]["description"].startswith("1. Bob — 3 votes")
    season = await answer(sandbox, "challenge leaderboard", {})
    assert "Season" in season["embeds"][0]["title"]


async def test_members_cannot_run_the_moderators_subcommands(bot: AtelierBot, sandbox: SandboxServer) -> None:
    someone = await member(sandbox, "someone")
    refused = await answer(
        sandbox,
        "challenge create",
        {"title": "x", "brief": "y", "channel": str(sandbox.channel_id)},
        user=someone,
    )
    assert "Manage Guild" in refused["content"]
    assert await bot.services.extras["challenges"].repository.for_guild(sandbox.guild_id) == []
    entry = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (entry.action, entry.actor_id) == ("permission.refused", someone)
