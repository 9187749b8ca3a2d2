"""Prompt safety end to end: blocked terms, the server's own AutoMod rules (read from Discord and kept
current from its events) and the classifiers stop a request before anything is stored, privately and
with the rule named; every block is audited; harmless prompts that look alarming pass."""

from __future__ import annotations

from typing import Any

from bot.app import AtelierBot
from bot.sandbox import SandboxServer
from tests.polling import wait_until

EPHEMERAL = 64


async def answer(sandbox: SandboxServer, name: str, options: dict[str, Any], **kw: Any) -> Any:
    handle = await sandbox.send_slash_command(name, options, **kw)
    await sandbox.wait_for_response(handle, 5)
    return handle


async def test_blocked_terms_stop_prompts_and_negative_prompts_privately(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    await answer(sandbox, "config blocked add", {"term": "lighthouse"})
    refused = await answer(sandbox, "imagine", {"prompt": "a LIGHTHOUSE at dusk"})
    data = refused.response_data or {}
    assert refused.response_type == 4 and data["flags"] & EPHEMERAL
    assert "moderators have blocked" in data["content"]
    assert await bot.services.jobs.list_for_user(sandbox.member_id) == []
    entry = (await bot.services.audit.recent(sandbox.guild_id))[0]
    assert (entry.action, entry.key, entry.actor_id) == ("safety.blocked", "server_terms", sandbox.member_id)
    assert entry.detail == "a LIGHTHOUSE at dusk"
    taken = await answer(sandbox, "imagine", {"prompt": "a blood orange sorbet", "negative": "blur"})
    assert taken.response_type == 5  # deferred: queued


async def test_the_servers_automod_rules_apply_to_prompts_and_follow_its_changes(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    cache = bot.services.policy.automod
    assert cache is not None
    rule = await sandbox.create_automod_rule("Sea monsters", keywords=["kraken*"], allow_list=["krakenfest"])
    await wait_until(lambda: bool(cache.for_guild(sandbox.guild_id)), 10)
    stopped = await answer(sandbox, "write", {"prompt": "an ode to the krakens of the deep"})
    assert "AutoMod rule “Sea monsters”" in (stopped.response_data or {})["content"]
    allowed = await answer(sandbox, "write", {"prompt": "a song for krakenfest"})
    assert allowed.response_type == 5

    await sandbox.update_automod_rule(rule, keyword_filter=["leviathan"])
    await wait_until(lambda: cache.for_guild(sandbox.guild_id)[0].keyword_filter == ("leviathan",), 10)
    kraken = await answer(sandbox, "write", {"prompt": "a kraken"})
    assert kraken.response_type == 5, kraken.response_data
    await answer(sandbox, "config automod", {"enabled": False})
    assert (await answer(sandbox, "write", {"prompt": "a leviathan"})).response_type == 5  # switched off
    await sandbox.delete_automod_rule(rule)
    await wait_until(lambda: cache.for_guild(sandbox.guild_id) == (), 10)


async def test_unsafe_requests_are_stopped_and_relaxed_applies_only_in_age_restricted_channels(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    gore = "a graphic close-up of a mutilated corpse with intestines spilling out"
    await answer(sandbox, "config safety", {"level": "relaxed"})
    here = await answer(sandbox, "imagine", {"prompt": gore})
    assert "violent or gory" in (here.response_data or {})["content"]  # relaxed counts as standard here
    adults = await sandbox.create_channel("after-dark", nsfw=True)
    there = await answer(sandbox, "imagine", {"prompt": gore}, channel=adults)
    assert there.response_type == 5
    never = await answer(sandbox, "imagine", {"prompt": "a naked 12 year old girl"}, channel=adults)
    assert "never allowed" in (never.response_data or {})["content"]


def _publish(bot: AtelierBot, job_id: str, **result: Any) -> None:
    import redis

    from wire.artifacts import make_store
    from wire.contract import JobResult, Outcome, ResultEvent
    from wire.events import EventPublisher

    refs = ()
    if result.pop("image", False):
        refs = (
            make_store(bot.settings).put(
                job_id, "image.png", "image/png", "image", b"\x89PNG\r\n\x1a\n" + b"\0" * 64
            ),
        )
    events = EventPublisher(redis.Redis.from_url(bot.settings.redis_url), bot.settings.events.stream, 1000)
    events.publish(
        ResultEvent(result=JobResult(job_id=job_id, status=Outcome.SUCCEEDED, artifacts=refs, **result))
    )


async def _job_of(sandbox: SandboxServer, handle: Any) -> str:
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m.get("components")), 10
    )
    return str(queued["components"][0]["components"][0]["custom_id"]).rsplit(":", 1)[1]


async def test_unsafe_output_is_withheld_and_flagged_images_only_reach_age_restricted_channels(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    text = await answer(sandbox, "write", {"prompt": "a story about a storm"})
    _publish(
        bot,
        await _job_of(sandbox, text),
        text="The storm left a mutilated corpse with its intestines spilling out on the deck.",
    )
    withheld = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (text.original_message_id or 0) and "safety rules" in str(m["embeds"]), 15
    )
    assert "intestines" not in str(withheld)

    picture = await answer(sandbox, "imagine", {"prompt": "a beach at noon"})
    _publish(bot, await _job_of(sandbox, picture), image=True, metadata={"safety": {"flagged": [0]}})
    hidden = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (picture.original_message_id or 0) and "safety rules" in str(m["embeds"]),
        15,
    )
    assert not hidden["attachments"]

    adults = await sandbox.create_channel("after-dark", nsfw=True)
    there = await answer(sandbox, "imagine", {"prompt": "a beach at noon"}, channel=adults)
    _publish(bot, await _job_of(sandbox, there), image=True, metadata={"safety": {"flagged": [0]}})
    shown = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (there.original_message_id or 0) and bool(m["attachments"]), 15
    )
    assert shown["attachments"]
    actions = [(e.action, e.key) for e in await bot.services.audit.recent(sandbox.guild_id)]
    assert ("safety.output", "image:flagged") in actions and any(
        k.startswith("text:") for a, k in actions if a == "safety.output"
    )
