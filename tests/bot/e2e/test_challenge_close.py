"""`/challenge close`: a moderator ends voting early through the local Discord server and the real bot;
the results are posted once (the deadline's timer firing later changes nothing), a member is refused
and audited, and a challenge that is still taking entries is not closed."""

from __future__ import annotations

from bot.app import AtelierBot
from bot.challenges.model import Phase
from bot.sandbox import SandboxServer
from tests.bot.e2e.test_challenge import Scheduler, click, custom_ids, finished_text_job, member
from tests.bot.e2e.test_challenge_modes import create
from tests.bot.e2e.test_config import answer


def results_posted(sandbox: SandboxServer) -> int:
    return len([m for m in sandbox.messages() if "Results of" in str(m.get("embeds"))])


async def test_a_moderator_closes_voting_early_and_the_results_are_posted_once(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    await create(sandbox, entries_hours=1, voting_hours=24)
    service = bot.services.extras["challenges"]
    (challenge,) = await service.repository.for_guild(sandbox.guild_id)
    alice, bob = await member(sandbox, "alice"), await member(sandbox, "bob")
    for who, text in ((alice, "Blue Hour"), (bob, "Salt and Iron")):
        job, _ = await finished_text_job(bot, sandbox, who, "an album", text)
        await answer(sandbox, "challenge submit", {"challenge": challenge.id, "job": job}, user=who)

    early = await answer(sandbox, "challenge close", {"challenge": challenge.id})
    assert "not open" in early["content"]  # still taking entries: nothing to close
    assert (await service.repository.get(challenge.id)).phase is Phase.OPEN

    scheduler = Scheduler(bot)
    await scheduler.at(challenge.voting_at)
    entries = {e.member_id: e for e in await service.repository.entries(challenge.id)}
    vote_bob, vote_alice = (f"chal:vote:{challenge.id}:{entries[who].id}:0" for who in (bob, alice))
    post_bob = await sandbox.wait_for_message(lambda m: vote_bob in custom_ids(m), 10)
    post_alice = await sandbox.wait_for_message(lambda m: vote_alice in custom_ids(m), 10)
    assert "is in" in await click(sandbox, post_bob, vote_bob, user=alice)

    refused = await answer(sandbox, "challenge close", {"challenge": challenge.id}, user=alice)
    assert "Manage Guild" in refused["content"]
    assert (await service.repository.get(challenge.id)).phase is Phase.VOTING
    audited = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (audited.action, audited.actor_id, audited.key) == ("permission.refused", alice, "challenge close")

    closed = await answer(sandbox, "challenge close", {"challenge": challenge.id})
    assert "is closed" in closed["content"] and closed["flags"] & 64
    results = await sandbox.wait_for_message(lambda m: "Results of" in str(m.get("embeds")), 10)
    first = results["embeds"][0]["description"].splitlines()[0]
    assert first.startswith("🥇") and f"<@{bob}>" in first and "1 vote" in first and "1 votes" not in first
    assert (await service.repository.get(challenge.id)).phase is Phase.CLOSED
    audited = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (audited.action, audited.actor_id) == ("challenge.closed", sandbox.member_id)

    await scheduler.at(challenge.closes_at)  # the deadline comes: no second count, no second post
    again = await answer(sandbox, "challenge close", {"challenge": challenge.id})
    assert "not open" in again["content"]
    late = await click(sandbox, post_alice, vote_alice, user=bob)
    assert "not open" in late
    assert results_posted(sandbox) == 1
