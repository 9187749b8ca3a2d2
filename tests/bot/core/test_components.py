"""The result-button registry: features add buttons to job messages without delivery knowing them."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.core.components import ButtonContext, Phase, ResultButtons
from bot.exts.results.buttons import add_result_buttons
from wire.contract import ImageJob, MusicJob


def button(custom_id: str) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=custom_id, custom_id=custom_id)


def ids(view: discord.ui.View) -> list[str]:
    return [str(getattr(item, "custom_id", "")) for item in view.children]


def context(phase: Phase, job: MusicJob | ImageJob | None = None) -> ButtonContext:
    return ButtonContext(job or MusicJob(), phase, "en")


async def test_providers_run_in_priority_then_insertion_order_and_see_the_phase() -> None:
    registry = ResultButtons()
    add_result_buttons(registry)
    registry.add(
        "challenge.submit", lambda c: [button("submit")] if c.phase is Phase.SUCCEEDED else [], priority=500
    )
    registry.add(
        "discovery.more", lambda c: [button("more")] if c.phase is Phase.SUCCEEDED else [], priority=500
    )
    job = MusicJob()
    finished = ids(registry.view(context(Phase.SUCCEEDED, job)))
    assert finished == [
        f"atelier:reroll:{job.id}",
        f"atelier:extend:{job.id}",
        "submit",
        "more",
        f"atelier:delete:{job.id}",
    ]
    assert ids(registry.view(context(Phase.PENDING, job))) == [f"atelier:cancel:{job.id}"]
    assert ids(registry.view(context(Phase.UNSUCCESSFUL, job))) == [
        f"atelier:reroll:{job.id}",
        f"atelier:delete:{job.id}",
    ]
    image = ImageJob(options={"prompt": "fox"})
    assert f"atelier:variation:{image.id}" in ids(registry.view(context(Phase.SUCCEEDED, image)))


async def test_adding_a_name_again_replaces_it_and_remove_takes_it_off() -> None:
    registry = ResultButtons()
    registry.add("x", lambda c: [button("one")])
    registry.add("x", lambda c: [button("two")])
    assert ids(registry.view(context(Phase.SUCCEEDED))) == ["two"] and registry.names() == ["x"]
    registry.remove("x")
    assert ids(registry.view(context(Phase.SUCCEEDED))) == []


async def test_a_failing_provider_is_skipped_and_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    registry = ResultButtons()

    def broken(_: ButtonContext) -> list[discord.ui.Item[Any]]:
        raise RuntimeError("boom")

    registry.add("broken", broken, priority=1)
    registry.add("fine", lambda c: [button("ok")])
    assert ids(registry.view(context(Phase.SUCCEEDED))) == ["ok"]
    assert "broken failed" in caplog.text


async def test_a_message_never_gets_more_buttons_than_discord_allows() -> None:
    registry = ResultButtons()
    registry.add("many", lambda c: [button(f"b{n}") for n in range(30)])
    assert len(registry.view(context(Phase.SUCCEEDED)).children) == ResultButtons.MAX_ITEMS
