"""Discovery end to end: the local Discord server, the real bot and a real embedding worker
(all-MiniLM-L6-v2 from its wheel) on its own queue. Results delivered on the server become items,
their embeddings come back on the event stream; reactions, clicks and "more like this" are signals;
/discover, its buttons and /similar answer; age-restricted work stays in age-restricted channels;
deleting a result and opting out remove signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.discovery.service import DiscoveryService
from bot.sandbox import SandboxServer
from config.settings import Settings
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.e2e.test_commands import custom_ids, job_of
from tests.bot.e2e.test_results import PNG, finish
from tests.conftest import settings_env
from tests.polling import wait_until
from tests.services import WorkerProcess
from wire.routing import EMBED_QUEUE

pytestmark = pytest.mark.slow

REACTIONS_INTENT = 1 << 10


@pytest.fixture(scope="module")
def embed_worker(
    module_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """The production worker app serving only the embedding queue (MiniLM loads on its first task)."""
    log_path = tmp_path_factory.mktemp("embed-worker") / "worker.log"
    process = WorkerProcess(settings_env(module_settings), EMBED_QUEUE, log_path)
    process.start(timeout=120)
    yield process
    process.stop()


def discovery_of(bot: AtelierBot) -> DiscoveryService:
    """The loaded cog's service (Bot.close unloads extensions, so the cog's class may be re-imported)."""
    discovery = getattr(bot.get_cog("DiscoverCog"), "discovery", None)
    assert isinstance(discovery, DiscoveryService)
    return discovery


async def member(sandbox: SandboxServer, name: str) -> int:
    user = sandbox.world.add_user(name)
    sandbox.world.add_member(sandbox.guild_id, user)
    return user


async def delivered_image(
    bot: AtelierBot, sandbox: SandboxServer, user: int, prompt: str, channel: int | None = None
) -> tuple[str, dict[str, Any]]:
    """An /imagine job of `user`, finished as a worker would; its delivered message."""
    handle = await sandbox.send_slash_command("imagine", {"prompt": prompt}, user=user, channel=channel)
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = job_of(queued)
    finish(bot, job_id, [("grid.png", "image/png", "grid", PNG)])
    final = await sandbox.wait_for_message(
        lambda m: (
            int(m["id"]) == (handle.original_message_id or 0)
            and any(i.startswith("atelier:delete:") for i in custom_ids(m))
        ),
        15,
    )
    await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    return job_id, final


async def reply_to(sandbox: SandboxServer, handle: Any, timeout: float = 15) -> dict[str, Any]:
    """The bot's answer to an interaction: the message itself, a follow-up or the edited reply."""
    await sandbox.wait_for_response(handle, 5)
    if handle.response_type in (5, 6):
        return await sandbox.wait_for_message(
            lambda m: (
                int(m["id"]) in {handle.original_message_id, *handle.followup_ids}
                and bool(m.get("content") or m.get("embeds"))
            ),
            timeout,
        )
    return handle.response_data or {}


def items_on(message: dict[str, Any], action: str = "show") -> list[str]:
    prefix = f"discover:{action}:"
    return [i[len(prefix) :] for i in custom_ids(message) if i.startswith(prefix)]


async def test_discover_similar_and_the_buttons_through_the_local_discord(
    bot: AtelierBot, sandbox: SandboxServer, embed_worker: WorkerProcess
) -> None:
    discovery = discovery_of(bot)
    alice, bob = await member(sandbox, "alice"), await member(sandbox, "bob")
    viewer = sandbox.member_id
    restricted_channel = await sandbox.create_channel("after-dark", nsfw=True)
    jobs: dict[str, str] = {}
    messages: dict[str, dict[str, Any]] = {}
    for who, key, prompt in (
        (alice, "lighthouse", "a lighthouse at dusk, watercolour"),
        (alice, "waves", "ocean waves at dawn, watercolour"),
        (alice, "storm", "a stormy sea, oil painting"),
        (bob, "ramen", "a bowl of ramen, photograph"),
        (bob, "bread", "fresh bread from the oven, photograph"),
        (bob, "neon", "a neon city at night, pixel art"),
    ):
        jobs[key], messages[key] = await delivered_image(bot, sandbox, who, prompt)
    jobs["nsfw"], messages["nsfw"] = await delivered_image(
        bot, sandbox, alice, "a figure study", restricted_channel
    )
    ordinary = {jobs[k] for k in jobs if k != "nsfw"}

    async def all_embedded() -> bool | None:
        stored = [await discovery.repository.item(j) for j in jobs.values()]
        return all(i is not None and i.embedding is not None for i in stored) or None

    await wait_until(all_embedded, 120)  # through the embedding worker and back on the event stream
    nsfw_item = await discovery.repository.item(jobs["nsfw"])
    assert nsfw_item is not None and nsfw_item.nsfw and nsfw_item.creator_id == alice
    assert "discover:more:" + jobs["ramen"] in custom_ids(messages["ramen"])  # "More like this" on results

    # a reaction on Atelier's post is a signal
    await sandbox.gateway.dispatch(
        "MESSAGE_REACTION_ADD",
        {
            "user_id": str(viewer),
            "channel_id": messages["lighthouse"]["channel_id"],
            "message_id": messages["lighthouse"]["id"],
            "guild_id": str(sandbox.guild_id),
            "emoji": {"id": None, "name": "⭐"},
            "type": 0,
            "burst": False,
        },
        guild_id=sandbox.guild_id,
        intent=REACTIONS_INTENT,
    )
    await wait_until(lambda: _signals(discovery, viewer, 1), 10)

    # the feed: this server's work, not the engaged item, nothing age-restricted here
    page = await reply_to(sandbox, await sandbox.send_slash_command("discover", {}))
    shown = items_on(page)
    assert len(shown) == 5 and set(shown) <= ordinary - {jobs["lighthouse"]}
    assert page["flags"] & 64 and "Picked for you" in page["embeds"][0]["title"]
    assert set(items_on(page, "more")) == set(shown) and "discover:next:any" in custom_ids(page)

    # play or see: the item itself, privately, and a signal
    seen = await reply_to(sandbox, await sandbox.click_button(page, f"discover:show:{shown[0]}"))
    assert [a["filename"] for a in seen["attachments"]] == ["grid.png"]
    await wait_until(lambda: _signals(discovery, viewer, 2), 10)

    # not for me: never again
    nope = await reply_to(sandbox, await sandbox.click_button(page, f"discover:nope:{shown[1]}"))
    assert "won't see that again" in nope["content"]
    state = await discovery.state(sandbox.guild_id)
    assert state.community.catalogue.rows[shown[1]] in state.community.members[viewer].negatives

    # the next page shows what the first did not (here: nothing left)
    click = await sandbox.click_button(page, "discover:next:any")
    await sandbox.wait_for_response(click, 5)
    following = await sandbox.wait_for_message(
        lambda m: m["id"] == page["id"] and items_on(m) != items_on(page), 10
    )
    assert not set(items_on(following)) & set(shown)

    # More like this on a result: similar work of this server, a signal
    similar = await reply_to(
        sandbox, await sandbox.click_button(messages["ramen"], f"discover:more:{jobs['ramen']}")
    )
    assert "More like this" in similar["embeds"][0]["title"]
    picked = items_on(similar)
    assert picked and set(picked) <= ordinary - {jobs["ramen"]}
    await wait_until(lambda: _signals(discovery, viewer, 4), 10)

    # /similar for a job (by a prefix)
    answer = await reply_to(sandbox, await sandbox.send_slash_command("similar", {"job": jobs["waves"][:8]}))
    assert set(items_on(answer)) <= ordinary - {jobs["waves"]} and items_on(answer)

    # in an age-restricted channel the age-restricted work can be shown
    restricted_page = await reply_to(
        sandbox, await sandbox.send_slash_command("discover", {}, channel=restricted_channel)
    )
    assert jobs["nsfw"] in items_on(restricted_page)

    # a result's author deletes it: the item and every signal on it go
    await discovery.record(sandbox.guild_id, bob, jobs["waves"], "reaction")
    deleted = await sandbox.click_button(messages["waves"], f"atelier:delete:{jobs['waves']}", user=alice)
    await sandbox.wait_for_response(deleted, 5)

    async def gone() -> bool | None:
        return (await discovery.repository.item(jobs["waves"])) is None or None

    await wait_until(gone, 10)
    assert await discovery.repository.member_signals(bob) == 0

    # opting out: the member's signals are deleted and none are kept after
    out = await reply_to(sandbox, await sandbox.send_slash_command("discover", {"action": "optout"}))
    assert "out of discovery" in out["content"]
    assert await discovery.repository.member_signals(viewer) == 0
    await sandbox.click_button(messages["bread"], f"discover:more:{jobs['bread']}")
    again = await reply_to(sandbox, await sandbox.send_slash_command("discover", {}))
    assert "opted out" in str(again["embeds"][0])
    assert await discovery.repository.member_signals(viewer) == 0


async def _signals(discovery: DiscoveryService, member_id: int, at_least: int) -> bool | None:
    return (await discovery.repository.member_signals(member_id)) >= at_least or None


def test_the_worker_log_has_no_errors(embed_worker: WorkerProcess) -> None:
    text = Path(embed_worker.log_path).read_text(errors="replace")
    assert "Traceback" not in text
