"""Driving the sandbox page in Debian's Chromium with Playwright (never a downloaded browser).

`launch()` starts the system Chromium by its path, headless, with a fresh profile; tests skip when it
is missing, unless `ATELIER_REQUIRE_BROWSER=1` (CI) makes that a failure. `PageDriver` does what a
person does in the page: open it as a member, pick a command, fill its options, press buttons.

`ATELIER_PAGE_SCREENSHOTS=<folder>` saves the screenshots tests take there (docs/img for the docs)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORT = {"width": 1360, "height": 860}
SCREENSHOTS = os.environ.get("ATELIER_PAGE_SCREENSHOTS")


def require_browser() -> None:
    """Skip (or, with ATELIER_REQUIRE_BROWSER=1, fail) without Playwright or the system Chromium."""
    missing = []
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if os.environ.get("ATELIER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@asynccontextmanager
async def launch() -> AsyncIterator[Any]:
    """A headless system Chromium (Playwright's own browsers are never downloaded or used)."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class PageDriver:
    """One browser tab on the sandbox page, acting as a member."""

    def __init__(self, page: Any, base_url: str, shots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.shots = shots
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    @classmethod
    async def open(
        cls,
        browser: Any,
        page_url: str,
        shots: Path,
        *,
        member: int | None = None,
        channel: int | None = None,
        timezone: str | None = None,
    ) -> PageDriver:
        context = await browser.new_context(viewport=VIEWPORT, timezone_id=timezone, locale="en-US")
        page = await context.new_page()
        driver = cls(page, page_url.rstrip("/"), shots)
        await driver.goto(member=member, channel=channel)
        return driver

    async def goto(self, *, member: int | None = None, channel: int | None = None) -> None:
        fragment = "&".join(
            f"{k}={v}" for k, v in (("member", member), ("channel", channel)) if v is not None
        )
        await self.page.goto(f"{self.base_url}/#{fragment}")
        await self.page.wait_for_function("() => window.atelier && window.atelier.ready", timeout=10_000)

    async def snapshots(self) -> int:
        return int(await self.page.evaluate("window.atelier.snapshots"))

    async def view_as(self, member: int) -> None:
        """Switch the member the page shows the server to (a fresh snapshot, their messages only)."""
        before = await self.snapshots()
        await self.page.select_option("#member-select", str(member))
        await self.page.wait_for_function(f"() => window.atelier.snapshots > {before}", timeout=10_000)

    async def open_channel(self, channel: int) -> None:
        await self.page.click(f'#channels button[data-channel="{channel}"]')

    async def command(
        self, name: str, options: Mapping[str, Any] | None = None, *, send: bool = True
    ) -> None:
        """Type `/`, pick `name` from the list the bot registered, fill its options, send."""
        page = self.page
        await page.fill("#composer-input", "/" + name.split()[0])
        await page.click(f'#command-list li[data-command="{name}"]')
        for option, value in (options or {}).items():
            field = page.locator(f"#opt-{option}")
            tag = await field.evaluate("node => node.tagName")
            kind = await field.get_attribute("type")
            if tag == "SELECT":
                await field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
            elif kind == "file":
                await field.set_input_files(value)
            else:
                await field.fill(str(value))
        if send:
            await page.click("#composer-send")

    async def press(self, message: Any, label: str) -> None:
        """Press the button labelled `label` on a message (a locator from `message()`)."""
        await message.locator("button.btn", has_text=label).first.click()

    async def fill_modal(self, values: Mapping[str, str]) -> None:
        """Fill the open modal's inputs by their custom_id and submit it."""
        await self.page.locator("#modal").wait_for(state="visible")
        for custom_id, value in values.items():
            await self.page.fill(f"#modal-field-{custom_id}", value)
        await self.page.click("#modal-submit")

    def message(self, text: str | None = None) -> Any:
        """The messages in the open channel (those containing `text`)."""
        found = self.page.locator("#messages li.message")
        return found.filter(has_text=text) if text else found

    async def shot(self, name: str, *, prefix: str = "sandbox-") -> Path:
        """A screenshot, `<prefix><name>.png` in ATELIER_PAGE_SCREENSHOTS (for the docs) or the test's
        folder."""
        folder = Path(SCREENSHOTS) if SCREENSHOTS else self.shots
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def latencies(self) -> list[float]:
        """Server received → frame shown, in ms, for every change pushed to this page."""
        return [float(item["ms"]) for item in await self.page.evaluate("window.atelier.latencies")]


def report_latencies(name: str, values: list[float]) -> str:
    """A line for the test log (never asserted: `make bench` reports the goal)."""
    if not values:
        return f"{name}: no pushed changes"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    line = (
        f"{name}: {len(values)} pushed changes, median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms"
    )
    log = os.environ.get("ATELIER_PAGE_LATENCY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": name, "latencies_ms": values}) + "\n")
    print(line)
    return line
