"""The page in Chromium against a small real discord.py bot: the composer is built from what the bot
registered, modals and select menus from what it sends; unknown parts get a labelled fallback;
timestamps show in the viewer's time zone; an ephemeral reply only for its member."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import expect

from bot.sandbox import SandboxServer
from bot.sandbox.web.demo import Cast
from tests.bot.sandbox.conftest import TOKEN
from tests.bot.sandbox.web.browser import PageDriver
from tests.bot.sandbox.web.form_bot import FormBot


async def test_the_composer_is_built_from_the_commands_the_bot_registered(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot, browser: Any, tmp_path: Path
) -> None:
    ada = cast.members[0]
    driver = await PageDriver.open(browser, sandbox.page_url, tmp_path, member=ada)
    page = driver.page
    await page.fill("#composer-input", "/pi")
    await page.keyboard.press("Enter")  # the keyboard picks from the list, as in Discord
    await expect(page.locator("#command-legend")).to_contain_text("/pick")
    await page.keyboard.press("Escape")
    await page.fill("#composer-input", "/")
    listed = await page.locator("#command-list li[data-command]").evaluate_all(
        "items => items.map(i => i.dataset.command)"
    )
    assert sorted(listed) == ["echo", "form", "pick"]  # /secret needs Manage Server
    await page.click('#command-list li[data-command="echo"]')
    text = page.locator("#opt-text")
    assert await text.get_attribute("maxlength") == "30" and await text.get_attribute("required") is not None
    assert await page.locator("#opt-count").get_attribute("min") == "1"
    assert await page.locator("#opt-count").get_attribute("max") == "5"
    assert await page.locator("#opt-colour option").all_inner_texts() == ["—", "Red", "Blue"]
    assert await page.locator("#opt-file").get_attribute("type") == "file"
    await page.fill("#opt-flavour", "m")
    await expect(page.locator("#opt-flavour-choices option")).to_have_count(1)
    assert await page.locator("#opt-flavour-choices option").get_attribute("value") == "mint"

    upload = tmp_path / "notes.txt"
    upload.write_text("hello")
    await driver.command(
        "echo", {"text": "hi", "colour": "blue", "count": 2, "flavour": "mint", "file": str(upload)}
    )
    await expect(driver.message("hi hi in blue, mint + notes.txt (5 bytes)")).to_be_visible()
    assert form_bot.seen[-1]["locale"] == "en-US"

    await page.select_option("#locale-select", "fr")
    await page.fill("#composer-input", "/é")
    await expect(page.locator('#command-list li[data-command="echo"] .cmd')).to_have_text("/écho")
    await expect(page.locator('#command-list li[data-command="echo"] .desc')).to_have_text(
        "Répète ce que vous donnez"
    )
    await page.click('#command-list li[data-command="echo"]')
    await expect(page.locator('label[for="opt-colour"]')).to_have_text("couleur")
    await page.fill("#opt-text", "salut")
    await page.click("#composer-send")
    await expect(driver.message("salut in red")).to_be_visible()
    assert form_bot.seen[-1]["locale"] == "fr"
    assert not driver.errors, driver.errors


async def test_modals_select_menus_fallbacks_timestamps_and_ephemeral_replies(
    sandbox: SandboxServer, cast: Cast, form_bot: FormBot, browser: Any, tmp_path: Path
) -> None:
    ada, basho = cast.members
    driver = await PageDriver.open(browser, sandbox.page_url, tmp_path, member=ada, timezone="Asia/Tokyo")
    page = driver.page

    await driver.command("form")
    dialog = page.locator("#modal")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#modal-title")).to_have_text("Your entry")
    await expect(page.locator("#modal-field-notes")).to_have_value("first draft")
    await page.fill("#modal-field-title", "Lanterns")
    await page.click("#modal-submit")
    await expect(driver.message("Entry saved: Lanterns (first draft)")).to_be_visible()

    await driver.command("pick")
    menu = driver.message("Choose one:")
    await menu.locator('select[data-custom-id="flavour-pick"]').select_option("plum")
    await expect(driver.message("ada picked plum")).to_be_visible()
    await driver.message("ada picked plum").locator('button[data-custom-id="open-form"]').click()
    await expect(dialog).to_be_visible()
    await page.click("#modal-cancel")

    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http,
        http.post(
            f"{sandbox.api_base}/channels/{sandbox.channel_id}/messages",
            json={
                "content": f"Starts <t:0:t> · **bold** <@{basho}>",
                "poll": {"question": {"text": "Which?"}, "answers": []},
                "components": [{"type": 99, "custom_id": "future"}],
            },
        ) as response,
    ):
        assert response.status == 200
    odd = driver.message("Starts")
    await expect(odd.locator("time.ts")).to_have_text("9:00 AM")  # 1970-01-01T00:00Z in Tokyo
    await expect(odd.locator("strong")).to_have_text("bold")
    await expect(odd.locator(".mention")).to_have_text("@Basho")
    fallback = odd.locator(".fallback summary")
    await expect(fallback).to_contain_text("poll")
    await expect(fallback).to_contain_text("a component of type 99")
    raw = json.loads(await odd.locator(".fallback pre").text_content() or "{}")
    assert raw["poll"]["question"]["text"] == "Which?"

    await driver.command("echo", {"text": "only-me", "private": True})
    mine = driver.message("only-me")
    await expect(mine).to_be_visible()
    await expect(mine.locator(".ephemeral-note")).to_contain_text("Only you can see this")
    await driver.view_as(basho)
    await expect(driver.message("Entry saved")).to_be_visible()
    await expect(driver.message("only-me")).to_have_count(0)
    assert not driver.errors, driver.errors
