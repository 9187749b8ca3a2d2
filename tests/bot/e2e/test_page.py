"""The sandbox page end to end: Debian's Chromium (driven by Playwright) on the page, the real bot,
a real Celery worker with the tiny text model, the tiny image pipeline and the real music model.

Each test does what a person does in the page — picks a command from the list the bot registered,
fills its options, watches the channel, presses buttons, switches member — and keeps a screenshot
(`ATELIER_PAGE_SCREENSHOTS=docs/img` refreshes the docs' ones). Latencies (server received → shown)
are printed, never asserted: `make bench` reports the goal.

A challenge in the page, with these fixtures and helpers, is in test_page_challenge.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from bot.app import AtelierBot
from bot.cli.sandbox_status import status_source
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from bot.sandbox.web.demo import Cast, furnish
from tests.bot.e2e.conftest import BotControl, wait_for_job
from tests.bot.e2e.test_restart import wait_for_result_event
from tests.bot.sandbox.web.browser import PageDriver, launch, report_latencies
from tests.services import WorkerProcess

pytestmark = pytest.mark.slow

FINAL = 'button[data-custom-id^="atelier:delete:"]'  # a delivered result carries the delete button
TIMEOUT_MS = 150_000


@pytest.fixture
async def cast(sandbox: SandboxServer) -> Cast:
    return await furnish(sandbox)


@pytest.fixture
async def bot(cast: Cast, bot_control: BotControl, sandbox: SandboxServer) -> AtelierBot:
    """The real bot, started after the cast is in place, feeding the page's job panel."""
    started = await bot_control.start()
    sandbox.page.status_source = status_source(started)
    return started


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with launch() as chromium:
        yield chromium


async def open_page(
    browser: Any, sandbox: SandboxServer, tmp_path: Path, member: int, **kw: Any
) -> PageDriver:
    return await PageDriver.open(browser, sandbox.page_url, tmp_path, member=member, **kw)


def job_of(custom_id: str | None) -> str:
    return (custom_id or "").rsplit(":", 1)[-1]


async def test_compose_music_and_play_it(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, worker: WorkerProcess, browser: Any, tmp_path: Path
) -> None:
    driver = await open_page(browser, sandbox, tmp_path, cast.members[0])
    await driver.command(
        "compose",
        {"style": "jig", "key": "D", "mode": "dorian", "tempo": 110, "bars": 8, "form": "AABB", "seed": 5},
    )
    reply = driver.message("jig · D dorian")
    await expect(reply.locator(FINAL)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(reply).to_contain_text("A A B B")  # the tune's parts, as the worker played them
    audio = reply.locator("audio")
    await expect(audio).to_have_count(1)
    await expect(reply.locator(".file", has_text=".mid")).to_contain_text("MIDI file")
    midi = await reply.locator(".file a.download").get_attribute("href")
    head = await driver.page.evaluate(
        "url => fetch(url).then(r => r.arrayBuffer()).then(b => new TextDecoder().decode(b.slice(0, 4)))",
        midi,
    )
    assert head == "MThd"
    roll = reply.locator(".embed-image img")
    await expect(roll).to_be_visible()
    assert await roll.evaluate("img => img.complete && img.naturalWidth > 0")
    await audio.evaluate("a => a.play()")
    await driver.page.wait_for_function(
        "() => { const a = document.querySelector('#messages audio'); return a && a.currentTime > 0.3 && a.duration > 1; }",
        timeout=15_000,
    )
    await audio.evaluate("a => a.pause()")
    seen = await driver.page.evaluate("window.atelier.seen")
    states = next(v for v in seen.values() if v[-1]["attachments"])
    assert states[0]["flags"] & 128  # the deferred "thinking" state was shown first
    await driver.shot("compose")
    report_latencies("compose", await driver.latencies())
    assert not driver.errors, driver.errors


async def test_write_a_poem_and_watch_it_stream(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, worker: WorkerProcess, browser: Any, tmp_path: Path
) -> None:
    driver = await open_page(browser, sandbox, tmp_path, cast.members[1])
    await driver.command("write", {"prompt": "rain on the roof", "kind": "poem", "length": 300, "seed": 3})
    reply = driver.message("rain on the roof")
    await expect(reply.locator(".thinking, .embed")).to_be_visible()
    streaming = reply.locator(".embed:has(blockquote)", has_text="Working on it")  # with the text so far
    await streaming.or_(reply.locator(FINAL)).first.wait_for(timeout=TIMEOUT_MS)
    if await streaming.count():  # the picture of it streaming, when that frame is caught
        await driver.shot("write-streaming")
    await expect(reply.locator(FINAL)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(reply.locator(".file", has_text=".txt")).to_be_visible()
    seen = await driver.page.evaluate("window.atelier.seen")
    (states,) = [v for v in seen.values() if v[-1]["attachments"]]
    descriptions = [s["description"] for s in states]
    streamed = [d for d in descriptions if "Working on it" in d]
    assert any("Queued" in d for d in descriptions), descriptions
    assert streamed, descriptions  # progress edits reached the page as they came
    assert states[-1]["description"].strip() and "Working on it" not in states[-1]["description"]
    report_latencies("write", await driver.latencies())
    assert not driver.errors, driver.errors


async def test_imagine_with_the_tiny_pipeline_and_watch_the_queue(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, worker: WorkerProcess, browser: Any, tmp_path: Path
) -> None:
    driver = await open_page(browser, sandbox, tmp_path, cast.members[0])
    await driver.command(
        "imagine", {"prompt": "a fox in the snow", "size": "512x512", "count": 2, "steps": 1, "seed": 9}
    )
    panel_job = driver.page.locator("#panel-body [data-job]").first
    await expect(panel_job).to_be_visible(timeout=30_000)  # the panel lists the job while it waits or runs
    reply = driver.message("a fox in the snow")
    await expect(reply.locator(FINAL)).to_be_visible(timeout=TIMEOUT_MS)
    grid = reply.locator(".image-grid img")
    await expect(grid).to_have_count(2)
    await expect(reply.locator(".embed-image img")).to_be_visible()
    for image in await reply.locator("img").all():
        await expect(image).to_be_visible()
        assert await image.evaluate("img => img.decode().then(() => img.naturalWidth)") >= 512
    job_id = job_of(await reply.locator(FINAL).get_attribute("data-custom-id"))
    await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    finished = driver.page.locator(f'#panel-body [data-job="{job_id}"]')
    await expect(finished).to_have_attribute("data-status", "delivered", timeout=10_000)
    await expect(driver.page.locator("#panel-body .worker")).to_have_count(1)
    await driver.shot("imagine")
    report_latencies("imagine", await driver.latencies())
    assert not driver.errors, driver.errors


async def test_a_moderator_switches_images_off_and_a_member_is_told_privately(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, browser: Any, tmp_path: Path
) -> None:
    ada, basho = cast.members
    driver = await open_page(browser, sandbox, tmp_path, cast.moderator, channel=cast.moderators)
    await driver.command("config modality", {"modality": "image", "enabled": False}, send=False)
    await driver.shot("composer")
    await driver.page.click("#composer-send")
    await expect(driver.message("Saved")).to_be_visible(timeout=15_000)

    await driver.view_as(ada)
    await expect(driver.page.locator("#channels", has_text="moderators")).to_have_count(0)
    await driver.page.fill("#composer-input", "/conf")
    await expect(driver.page.locator('#command-list li[data-command^="config"]')).to_have_count(0)
    await driver.command("imagine", {"prompt": "a lighthouse at dusk"})
    refusal = driver.message("switched off")
    await expect(refusal).to_be_visible(timeout=15_000)
    await expect(refusal.locator(".ephemeral-note")).to_contain_text("Only you can see this")
    await driver.shot("config")

    await driver.view_as(basho)
    await expect(driver.message("switched off")).to_have_count(0)
    report_latencies("config", await driver.latencies())
    assert not driver.errors, driver.errors


async def test_an_ephemeral_error_is_shown_only_to_its_member(
    bot: AtelierBot, sandbox: SandboxServer, cast: Cast, browser: Any, tmp_path: Path
) -> None:
    ada, basho = cast.members
    clip = tmp_path / "clip.gif"
    clip.write_bytes(b"GIF89a" + b"\x00" * 20)
    driver = await open_page(browser, sandbox, tmp_path, basho)
    await driver.command("verify", {"file": str(clip)})
    error = driver.message("clip.gif")
    await expect(error).to_be_visible(timeout=15_000)
    await expect(error.locator(".ephemeral-note")).to_be_visible()
    assert "**file**" not in (await error.inner_text())  # markdown is rendered, not shown raw
    await driver.shot("ephemeral")
    await driver.view_as(ada)
    await driver.page.wait_for_timeout(300)
    await expect(driver.message("clip.gif")).to_have_count(0)
    assert not driver.errors, driver.errors


async def test_the_page_after_a_restart_of_the_bot(
    bot: AtelierBot,
    bot_control: BotControl,
    sandbox: SandboxServer,
    cast: Cast,
    worker: WorkerProcess,
    browser: Any,
    tmp_path: Path,
) -> None:
    driver = await open_page(browser, sandbox, tmp_path, cast.members[0])
    presence = driver.page.locator("#bot-presence")
    await expect(presence).to_have_attribute("data-state", "online")
    await driver.command("write", {"prompt": "river runs cold", "length": 400})
    reply = driver.message("river runs cold")
    cancel = reply.locator('button[data-custom-id^="atelier:cancel:"]')
    await expect(cancel).to_be_visible(timeout=15_000)
    job_id = job_of(await cancel.get_attribute("data-custom-id"))

    await bot_control.stop()
    await expect(presence).to_have_attribute("data-state", "offline")
    await wait_for_result_event(bot_control.settings, job_id)
    restarted = await bot_control.start()
    sandbox.page.status_source = status_source(restarted)
    await expect(presence).to_have_attribute("data-state", "online")
    await expect(reply.locator(FINAL)).to_be_visible(timeout=60_000)  # delivered after the restart, no reload
    await driver.page.fill("#composer-input", "/wri")
    await expect(driver.page.locator('#command-list li[data-command="write"]')).to_be_visible()
    await driver.page.keyboard.press("Escape")
    report_latencies("restart", await driver.latencies())
    assert not driver.errors, driver.errors
