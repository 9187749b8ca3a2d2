"""Bad requests get a clear private answer, nothing is queued, and nothing is logged as a crash."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.sandbox import InteractionHandle, SandboxServer
from bot.sandbox.commands import OptionError

EPHEMERAL = 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MIDI = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60" + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"


async def private_answer(server: SandboxServer, handle: InteractionHandle, timeout: float = 5.0) -> str:
    """The ephemeral text the member saw: the initial response, or the followup after a defer."""
    await server.wait_for_response(handle, 3)

    def find() -> dict[str, Any] | None:
        if handle.response_type == 4 and handle.response_data:
            return handle.response_data
        for message_id in handle.followup_ids:
            stored = server.core.messages.get(message_id)
            if stored is not None:
                return stored.data
        return None

    data = await server.core.messages.changes.wait_until(find, timeout)
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


OUT_OF_RANGE: list[tuple[str, dict[str, Any]]] = [
    ("compose", {"tempo": 29}),
    ("compose", {"tempo": 301}),
    ("compose", {"bars": 3}),
    ("compose", {"bars": 65}),
    ("compose", {"instrument": -1}),
    ("compose", {"instrument": 128}),
    ("compose", {"seed": -1}),
    ("compose", {"seed": 2**32}),
    ("compose", {"style": "polka"}),
    ("compose", {"key": "H"}),
    ("compose", {"mode": "lydian"}),
    ("compose", {"accompaniment": "drums"}),
    ("imagine", {"prompt": "x", "steps": 0}),
    ("imagine", {"prompt": "x", "steps": 151}),
    ("imagine", {"prompt": "x", "count": 5}),
    ("imagine", {"prompt": "x", "count": 0}),
    ("imagine", {"prompt": "x", "size": "100x100"}),
    ("write", {"prompt": "x", "length": 0}),
    ("write", {"prompt": "x", "length": 2049}),
    ("write", {"prompt": "x", "kind": "essay"}),
    ("write", {"prompt": "x", "tempo": 3}),
    ("jobs", {"action": "delete"}),
]


async def test_declared_limits_refuse_out_of_range_options(bot: AtelierBot, sandbox: SandboxServer) -> None:
    accepted = []
    for command, options in OUT_OF_RANGE:
        try:
            await sandbox.send_slash_command(command, options)
        except OptionError:
            continue
        accepted.append((command, options))
    assert accepted == []
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
