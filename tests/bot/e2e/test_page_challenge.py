"""A community challenge in the sandbox page, end to end: Debian's Chromium (driven by Playwright), the
real bot, a real Celery worker with the real music model, and the scheduler's timer runner on a clock
the test moves (the entry window's deadline); and a moderator reading `/config show`.

A moderator sets the challenge up, two members compose and enter their results (the result's button,
and `/challenge submit`), voting opens blind (entries posted by the bot, without authors), members vote
with the entries' buttons and with their own ballot, the moderator closes it with `/challenge close`,
and the results name the winner. `ATELIER_PAGE_SCREENSHOTS=docs/img` refreshes challenge-voting.png,
challenge-leaderboard.png and config-show.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from bot.app import AtelierBot
from bot.challenges.model import Phase
from bot.sandbox import SandboxServer
from bot.sandbox.web.demo import Cast
from tests.bot.e2e import test_page
from tests.bot.e2e.test_challenge import Scheduler
from tests.bot.e2e.test_page import FINAL, TIMEOUT_MS, job_of, open_page
from tests.bot.sandbox.web.browser import VIEWPORT, PageDriver, report_latencies
from tests.services import WorkerProcess

pytestmark = pytest.mark.slow

# The page tests' fixtures: the cast (a moderator, two members), the bot feeding the page, Chromium.
cast = test_page.cast
bot = test_page.bot
browser = test_page.browser

SUBMIT = 'button[data-custom-id^="chal:submit:"]'
VOTE = 'button[data-custom-id^="chal:vote:"]'
BALLOT = 'button[data-custom-id^="chal:ballot:"]'
NEXT = 'button[data-custom-id^="chal:page:"]:has-text("▶")'
SHORT_MS = 20_000


async def compose(driver: PageDriver, options: dict[str, Any], title: str) -> Any:
    """Compose as the member the page shows; the delivered result (a message locator)."""
    await driver.command("compose", {"tempo": 110, "bars": 8, **options})
    reply = driver.message(title).filter(has=driver.page.locator(FINAL))
    await expect(reply).to_have_count(1, timeout=TIMEOUT_MS)
    return reply


async def private(driver: PageDriver, text: str) -> Any:
    """A reply only the member the page shows can see (the last one containing `text`)."""
    found = driver.message(text).last
    await expect(found).to_be_visible(timeout=SHORT_MS)
    await expect(found.locator(".ephemeral-note")).to_contain_text("Only you can see this")
    return found


async def tall_shot(driver: PageDriver, name: str, height: int = 1180) -> None:
    """A taller screenshot (a whole entry post above what follows it), the viewport restored after."""
    await driver.page.set_viewport_size({**VIEWPORT, "height": height})
    await driver.page.evaluate(
        "() => { const l = document.getElementById('messages'); l.scrollTop = l.scrollHeight; }"
    )
    await driver.shot(name, prefix="")
    await driver.page.set_viewport_size(VIEWPORT)


async def test_two_members_enter_vote_blind_and_a_moderator_closes_the_challenge(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, worker: WorkerProcess, browser: Any, tmp_path: Path
) -> None:
    ada, basho = cast.members
    service = bot.services.extras["challenges"]
    driver = await open_page(browser, sandbox, tmp_path, cast.moderator)

    # the moderator sets the challenge up in #general
    await driver.command(
        "challenge create",
        {
            "title": "Harbour tunes",
            "brief": "A tune for leaving harbour at dawn.",
            "channel": cast.general,
            "kind": "music",
            "entries_hours": 1,
            "voting_hours": 1,
        },
    )
    await private(driver, "Harbour tunes is set")
    await expect(driver.message("is open for entries")).to_be_visible(timeout=SHORT_MS)
    (challenge,) = await service.repository.for_guild(sandbox.guild_id)
    assert challenge.phase is Phase.OPEN

    # Ada composes a jig and enters it with the result's button
    await driver.view_as(ada)
    jig = await compose(driver, {"style": "jig", "key": "D", "mode": "dorian", "seed": 5}, "jig · D dorian")
    await jig.locator(SUBMIT).click()
    await private(driver, "You're in")

    # Basho composes a reel and enters it with /challenge submit
    await driver.view_as(basho)
    reel = await compose(driver, {"style": "reel", "key": "G", "mode": "major", "seed": 7}, "reel · G major")
    reel_job = job_of(await reel.locator(FINAL).get_attribute("data-custom-id"))
    await driver.command("challenge submit", {"challenge": challenge.id, "job": reel_job[:8]})
    await private(driver, "You're in")
    entries = {e.member_id: e for e in await service.repository.entries(challenge.id)}
    assert set(entries) == {ada, basho}

    # the entry window ends: the scheduler opens voting, the bot posts the entries without authors
    await driver.view_as(ada)
    await Scheduler(bot).at(challenge.voting_at)
    announcement = driver.message("voting is open")
    await expect(announcement).to_be_visible(timeout=SHORT_MS)
    posts = driver.message("authors are revealed with the results")
    await expect(posts).to_have_count(2, timeout=SHORT_MS)
    for post in await posts.all():
        text = await post.inner_text()
        assert "ada" not in text.lower() and "basho" not in text.lower(), text
        assert "AI-made" in text
        await expect(post.locator(".invoked")).to_have_count(0)  # nobody "used" anything: the bot posted it
        await expect(post.locator(".app-tag")).to_be_visible()
        await expect(post.locator("audio")).to_have_count(1)
        await expect(post.locator(VOTE)).to_have_count(1)
        assert "vote" not in (await post.locator(".embed").inner_text()).lower()  # no running tally
    theirs, own = posts.filter(has_text="reel"), posts.filter(has_text="jig")

    # Ada votes for Basho's entry (confirmed privately) and cannot vote for her own
    await theirs.locator(VOTE).click()
    await private(driver, "Your vote for entry")
    await tall_shot(driver, "challenge-voting")
    await own.locator(VOTE).click()
    await private(driver, "can't vote for your own entry")

    # Basho votes from his own ballot: one entry at a time, his own without a vote button
    await driver.view_as(basho)
    await announcement.locator(BALLOT).click()
    ballot = await private(driver, "entry 1 of 2")
    first_is_his = bool(await ballot.filter(has_text="reel").count())
    await ballot.locator(NEXT).click()  # the same private message, turned to the next entry
    ballot = driver.message("entry 2 of 2")
    await expect(ballot).to_be_visible(timeout=SHORT_MS)
    if not first_is_his:
        await expect(ballot).to_contain_text("reel")
        await expect(ballot.locator(VOTE)).to_have_count(0)
        await ballot.locator(NEXT).click()
        ballot = driver.message("entry 1 of 2")
    await expect(ballot).to_contain_text("jig", timeout=SHORT_MS)
    await expect(driver.message("of 2")).to_have_count(1)  # turned in place, not posted again
    await ballot.locator(VOTE).click()
    await private(driver, "Your vote for entry")

    # the moderator votes too, then closes the challenge
    await driver.view_as(cast.moderator)
    await posts.filter(has_text="reel").locator(VOTE).click()
    await private(driver, "Your vote for entry")
    votes = {member: count for _, member, _, count in await service.repository.points(challenge.id)}
    assert votes == {basho: 2, ada: 1}
    await driver.command("challenge close", {"challenge": challenge.id})
    await private(driver, "is closed; the results are posted")
    results = driver.message("Results of Harbour tunes")
    await expect(results).to_be_visible(timeout=SHORT_MS)
    lines = (await results.locator(".embed-description").inner_text()).splitlines()
    assert lines[0].startswith("🥇") and "@Basho" in lines[0] and "2 votes" in lines[0], lines
    assert "@Ada" in lines[1] and "1 vote" in lines[1], lines
    picture = results.locator(".embed-image img")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    assert (await service.repository.get(challenge.id)).phase is Phase.CLOSED

    # everyone sees the leaderboard; votes are no longer taken
    await driver.view_as(ada)
    await driver.command("challenge leaderboard", {"challenge": challenge.id})
    board = driver.message("Harbour tunes").filter(has_text="1. Basho — 2 votes")
    await expect(board).to_be_visible(timeout=SHORT_MS)
    await expect(board.locator(".ephemeral-note")).to_have_count(0)
    await expect(board.locator(".embed-image img")).to_be_visible()
    await driver.shot("challenge-leaderboard", prefix="")
    await theirs.locator(VOTE).click()
    await private(driver, "Voting on that challenge is not open")
    report_latencies("challenge", await driver.latencies())
    assert not driver.errors, driver.errors


async def test_a_moderator_reads_the_servers_settings(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, browser: Any, tmp_path: Path
) -> None:
    driver = await open_page(browser, sandbox, tmp_path, cast.moderator, channel=cast.moderators)
    await driver.command("config safety", {"level": "strict"})
    await expect(driver.message("Saved")).to_have_count(1, timeout=SHORT_MS)
    await driver.command("config modality", {"modality": "image", "enabled": False})
    await expect(driver.message("Saved")).to_have_count(2, timeout=SHORT_MS)
    await driver.command("config show")
    shown = await private(driver, "Atelier on this server")
    commands = shown.locator(".embed-field", has_text="Commands")
    await expect(commands).to_contain_text("/imagine off")
    await expect(commands).to_contain_text("/compose on")
    await expect(shown.locator(".embed-field", has_text="Safety")).to_contain_text("level: strict")
    await driver.shot("config-show", prefix="")
    await driver.view_as(cast.members[0])  # a member sees neither #moderators nor the reply
    await expect(driver.message("Atelier on this server")).to_have_count(0)
    assert not driver.errors, driver.errors
