"""Bad requests get a clear private answer, nothing is queued, and nothing is logged as a crash."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.sandbox import InteractionHandle, SandboxServer
from bot.sandbox.commands import OptionError
from tests.polling import wait_until
from wire.contract import MAX_PROMPT_CHARS

EPHEMERAL = 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MIDI = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60" + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"


def answer_of(server: SandboxServer, handle: InteractionHandle) -> dict[str, Any] | None:
    """The message the member was answered with: the initial response, or the followup after a defer."""
    if handle.response_type == 4 and handle.response_data:
        return handle.response_data
    for message_id in handle.followup_ids:
        stored = server.core.messages.get(message_id)
        if stored is not None:
            return stored.data
    return None


async def private_answer(server: SandboxServer, handle: InteractionHandle, timeout: float = 5.0) -> str:
    """The ephemeral text the member saw."""
    await server.wait_for_response(handle, 3)
    data = await server.core.messages.changes.wait_until(lambda: answer_of(server, handle), timeout)
    assert data.get("flags", 0) & EPHEMERAL, data
    return str(data["content"])


@pytest.fixture
def no_crash_logs(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO)
    yield caplog
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, [r.getMessage() for r in crashes]


async def nothing_queued(bot: AtelierBot) -> None:
    assert await bot.runtime.jobs.list_recent() == []


OUT_OF_RANGE: list[tuple[str, dict[str, Any], str]] = [
    # (command, options, the option the member's answer must name)
    ("compose", {"tempo": 29}, "tempo"),
    ("compose", {"tempo": 301}, "tempo"),
    ("compose", {"bars": 3}, "bars"),
    ("compose", {"bars": 65}, "bars"),
    ("compose", {"instrument": -1}, "instrument"),
    ("compose", {"instrument": 128}, "instrument"),
    ("compose", {"seed": -1}, "seed"),
    ("compose", {"seed": 2**32}, "seed"),
    ("compose", {"style": "polka"}, "style"),
    ("compose", {"key": "H"}, "key"),
    ("compose", {"mode": "lydian"}, "mode"),
    ("compose", {"accompaniment": "drums"}, "accompaniment"),
    ("imagine", {"prompt": "x", "steps": 0}, "steps"),
    ("imagine", {"prompt": "x", "steps": 151}, "steps"),
    ("imagine", {"prompt": "x", "count": 5}, "count"),
    ("imagine", {"prompt": "x", "count": 0}, "count"),
    ("imagine", {"prompt": "x", "size": "100x100"}, "size"),
    ("write", {"prompt": "x", "length": 0}, "length"),
    ("write", {"prompt": "x", "length": 2049}, "length"),
    ("write", {"prompt": "x", "kind": "essay"}, "kind"),
    ("write", {"prompt": "x", "seed": 2**64}, "seed"),
]
"""Outside the synced schema's ranges and choices: the sandbox, like Discord's client, refuses them."""

UNDECLARED: list[tuple[str, dict[str, Any]]] = [
    ("write", {"prompt": "x", "tempo": 3}),
    ("jobs", {"action": "delete"}),
]
"""Refused by the sandbox too; what the bot makes of them is `test_crafted_options_the_bot_does_not_refuse_yet`."""

CRAFTED: list[tuple[str, dict[str, Any], str]] = [
    # wrong types, as a modified client could send them
    ("compose", {"tempo": "fast"}, "tempo"),
    ("compose", {"bars": 8.5}, "bars"),
    ("compose", {"tempo": True}, "tempo"),
    ("imagine", {"prompt": 5}, "prompt"),
    ("imagine", {"prompt": "x", "seed": "abc"}, "seed"),
    ("imagine", {"prompt": "x", "count": 2.5}, "count"),
    ("write", {"prompt": "x", "length": "long"}, "length"),
    # strings longer than the declared maximum
    ("imagine", {"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, "prompt"),
    ("imagine", {"prompt": "x", "negative": "y" * (MAX_PROMPT_CHARS + 1)}, "negative"),
    ("write", {"prompt": "x" * (2 * MAX_PROMPT_CHARS + 1)}, "prompt"),
]
"""What only a modified client sends: the sandbox's own check would refuse or never see it."""


async def refusal_problems(
    bot: AtelierBot, server: SandboxServer, command: str, options: dict[str, Any], option: str
) -> list[str]:
    """Send a command straight to the bot, unchecked; what is wrong with how the member was answered
    (waiting for an answer, or for a job to be stored, whichever comes first)."""
    handle = await server.send_slash_command(command, options, validate=False)
    sent = f"/{command} {str(options)[:80]}"
    await server.wait_for_response(handle, 3)

    async def outcome() -> tuple[str, Any] | None:
        data = answer_of(server, handle)
        if data is not None:
            return "answered", data
        stored = await bot.runtime.jobs.list_recent()
        return ("queued", stored) if stored else None

    kind, found = await wait_until(outcome, timeout=10, interval=0.05)
    if kind == "queued":
        return [f"{sent}: a job was stored instead of a refusal: {[r.job for r in found]}"]
    answer = str(found.get("content"))
    problems = []
    if not found.get("flags", 0) & EPHEMERAL:
        problems.append(f"{sent}: the answer is public: {found}")
    if f"**{option}**" not in answer:
        problems.append(f"{sent}: the answer does not name **{option}**: {answer!r}")
    if any(word in answer for word in ("went wrong", "Traceback", "internal")):
        problems.append(f"{sent}: an internal-error answer: {answer!r}")
    return problems


async def test_options_outside_the_declared_limits_are_refused_by_the_client_and_by_the_bot(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    """The sandbox refuses what the schema declares out of range (as Discord's client would); sent
    anyway, or crafted as no client would send it, the bot refuses it privately, naming the option."""
    accepted = []
    for command, options in [(c, o) for c, o, _ in OUT_OF_RANGE] + UNDECLARED:
        try:
            await sandbox.send_slash_command(command, options)
        except OptionError:
            continue
        accepted.append((command, options))
    assert accepted == []
    problems = []
    for command, options, option in OUT_OF_RANGE + CRAFTED:
        problems += await refusal_problems(bot, sandbox, command, options, option)
    assert problems == []
    await nothing_queued(bot)


@pytest.mark.parametrize(
    ("command", "options", "option"),
    [
        pytest.param(
            "compose",
            {"bars": 8, "volume": 11},
            "volume",
            id="unknown-option",
        ),
        pytest.param(
            "imagine",
            {"count": 2},
            "prompt",
            id="missing-required-option",
        ),
        pytest.param(
            "jobs",
            {"action": "delete", "job": "0123abcd"},
            "action",
            id="undeclared-choice",
        ),
    ],
)
async def test_options_the_command_does_not_declare_are_refused_by_name(
    bot: AtelierBot, sandbox: SandboxServer, command: str, options: dict[str, Any], option: str
) -> None:
    assert await refusal_problems(bot, sandbox, command, options, option) == []
    await nothing_queued(bot)


def publish_globally(server: SandboxServer) -> None:
    """Make the guild's commands global too, so the member can use them in a DM."""
    server.core.commands.overwrite(raw_commands(server), None)


def raw_commands(server: SandboxServer) -> list[dict[str, Any]]:
    keys = ("name", "description", "type", "options")
    return [{k: c[k] for k in keys if k in c} for c in server.commands(server.guild_id)]


async def test_a_dm_is_refused_politely(bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any) -> None:
    publish_globally(sandbox)
    handle = await sandbox.send_slash_command("write", {"prompt": "hello"}, guild=False)
    assert "server" in await private_answer(sandbox, handle)
    await nothing_queued(bot)


async def test_a_dm_in_chinese_is_refused_in_chinese(bot: AtelierBot, sandbox: SandboxServer) -> None:
    publish_globally(sandbox)
    handle = await sandbox.send_slash_command("help", guild=False, locale="zh-CN")
    assert "服务器" in await private_answer(sandbox, handle)


async def test_an_unknown_command_is_explained(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    stale = {"name": "paint", "description": "removed long ago", "type": 1}
    sandbox.core.commands.overwrite([*raw_commands(sandbox), stale], sandbox.guild_id)
    handle = await sandbox.send_slash_command("paint")
    assert "/help" in await private_answer(sandbox, handle)


async def test_a_blank_prompt_names_the_option(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "   "})
    answer = await private_answer(sandbox, handle)
    assert "**prompt**" in answer and "empty" in answer
    await nothing_queued(bot)


async def test_a_png_sent_as_midi_by_name_is_refused(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    handle = await sandbox.send_slash_command(
        "compose", attachments={"midi": ("cover.png", PNG, "image/png")}
    )
    answer = await private_answer(sandbox, handle)
    assert "**midi**" in answer and "cover.png" in answer
    await nothing_queued(bot)


async def test_a_png_renamed_to_mid_is_refused_by_its_bytes(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    handle = await sandbox.send_slash_command(
        "compose", attachments={"midi": ("tune.mid", PNG, "audio/midi")}
    )
    answer = await private_answer(sandbox, handle)
    assert "**midi**" in answer and "tune.mid" in answer
    assert (
        handle.original_message_id is not None
        and sandbox.core.messages.get(handle.original_message_id) is None
    )
    await nothing_queued(bot)


async def test_an_oversized_midi_is_refused(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    big = MIDI + b"\x00" * (2 * 1024 * 1024)
    handle = await sandbox.send_slash_command(
        "compose", attachments={"midi": ("long.mid", big, "audio/midi")}
    )
    assert "too large" in await private_answer(sandbox, handle)
    await nothing_queued(bot)


async def test_a_corrupt_image_is_refused(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    handle = await sandbox.send_slash_command(
        "imagine", {"prompt": "a cat"}, attachments={"image": ("cat.png", b"not really a png", "image/png")}
    )
    answer = await private_answer(sandbox, handle)
    assert "**image**" in answer and "cat.png" in answer
    await nothing_queued(bot)


async def test_a_valid_midi_is_stored_for_the_job(
    bot: AtelierBot, sandbox: SandboxServer, no_crash_logs: Any
) -> None:
    handle = await sandbox.send_slash_command(
        "compose", {"bars": 8}, attachments={"midi": ("tune.mid", MIDI, "audio/midi")}
    )
    await sandbox.wait_for_response(handle, 3)
    await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m.get("embeds")), 10
    )
    (record,) = await bot.runtime.jobs.list_recent()
    key = record.job.options.prime_artifact  # type: ignore[union-attr]
    assert key and bot.runtime.store.get(key) == MIDI
