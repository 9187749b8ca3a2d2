"""Image and music results, published on the real event stream as a worker would, then delivered.

The image and music backends may not be installed, so these results are written here with the same
artifact store and event publisher the workers use.
"""

from __future__ import annotations

from typing import Any

import redis

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.e2e.test_commands import custom_ids, final_reply, job_of
from wire.artifacts import make_store
from wire.contract import ErrorCode, JobResult, Progress, ProgressEvent, ResultEvent, StartedEvent
from wire.events import EventPublisher

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
MIDI = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"
OGG = b"OggS" + b"\x00" * 300


def publisher(bot: AtelierBot) -> EventPublisher:
    settings = bot.settings
    return EventPublisher(
        redis.Redis.from_url(settings.redis_url), settings.events.stream, settings.events.maxlen
    )


async def queued(sandbox: SandboxServer, name: str, options: dict[str, Any]) -> tuple[Any, str]:
    handle = await sandbox.send_slash_command(name, options)
    message = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    return handle, job_of(message)


def finish(bot: AtelierBot, job_id: str, files: list[tuple[str, str, str, bytes]], **extra: Any) -> None:
    """Store the files and publish started, progress and result events for the job."""
    store = make_store(bot.settings)
    refs = tuple(store.put(job_id, name, ctype, kind, data) for name, ctype, kind, data in files)
    events = publisher(bot)
    events.publish(StartedEvent(job_id=job_id, worker="fake"))
    events.publish(ProgressEvent(progress=Progress(job_id=job_id, fraction=0.5, message="halfway")))
    status = extra.pop("status", JobStatus.SUCCEEDED)
    events.publish(
        ResultEvent(result=JobResult(job_id=job_id, status=status, artifacts=refs, worker="fake", **extra))
    )


async def test_image_result_shows_the_picture_and_variation_uses_it(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await queued(sandbox, "imagine", {"prompt": "a fox", "count": 2, "seed": 4})
    finish(bot, job_id, [("grid.png", "image/png", "grid", PNG)], metadata={"seed": 4})
    final = await final_reply(sandbox, handle.original_message_id, 15)
    assert final["embeds"][0]["image"]["url"].endswith("grid.png")
    assert [a["filename"] for a in final["attachments"]] == ["grid.png"]
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 5)

    click = await sandbox.click_button(final, f"atelier:variation:{job_id}")
    child_message = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (click.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    child = await bot.runtime.jobs.get(job_of(child_message))
    assert child is not None and child.parent_id == job_id
    assert child.job.options.init_artifact == record.artifacts[0].key  # type: ignore[union-attr]
    assert child.job.options.prompt == "a fox" and child.job.options.seed != 4  # type: ignore[union-attr]


async def test_music_result_sends_audio_midi_and_roll_and_extend_continues_it(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    handle, job_id = await queued(sandbox, "compose", {"style": "reel", "bars": 8})
    files = [
        ("tune.ogg", "audio/ogg", "audio", OGG),
        ("tune.mid", "audio/midi", "midi", MIDI),
        ("roll.png", "image/png", "piano_roll", PNG),
    ]
    finish(bot, job_id, files)
    final = await final_reply(sandbox, handle.original_message_id, 15)
    assert [a["filename"] for a in final["attachments"]] == ["tune.ogg", "tune.mid", "roll.png"]
    assert final["embeds"][0]["image"]["url"].endswith("roll.png")
    assert any(i == f"atelier:extend:{job_id}" for i in custom_ids(final))
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 5)

    click = await sandbox.click_button(final, f"atelier:extend:{job_id}")
    child_message = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (click.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    child = await bot.runtime.jobs.get(job_of(child_message))
    midi_key = next(a.key for a in record.artifacts if a.kind == "midi")
    assert child is not None and child.parent_id == job_id
    assert child.job.options.prime_artifact == midi_key and child.job.options.bars == 8  # type: ignore[union-attr]


async def test_files_over_the_upload_limit_are_left_out_and_named(
    bot: AtelierBot, sandbox: SandboxServer
) -> None:
    sandbox.rules.attachment_size_limit = 1000
    handle, job_id = await queued(sandbox, "compose", {})
    finish(
        bot,
        job_id,
        [
            ("tune.ogg", "audio/ogg", "audio", b"OggS" + b"\x00" * 5000),
            ("tune.mid", "audio/midi", "midi", MIDI),
        ],
    )
    final = await final_reply(sandbox, handle.original_message_id, 15)
    assert [a["filename"] for a in final["attachments"]] == ["tune.mid"]
    assert any("tune.ogg" in f["value"] for f in final["embeds"][0]["fields"])


async def test_each_error_code_gets_a_friendly_sentence(bot: AtelierBot, sandbox: SandboxServer) -> None:
    expected = {
        ErrorCode.NOT_AVAILABLE: "not available on this server",
        ErrorCode.MODEL_MISSING: "isn't installed",
        ErrorCode.TIMEOUT: "took too long",
        ErrorCode.WORKER_LOST: "stopped unexpectedly",
        ErrorCode.INTERNAL: "went wrong",
        ErrorCode.INVALID_INPUT: "couldn't use those settings",
    }
    for code, phrase in expected.items():
        handle, job_id = await queued(sandbox, "write", {"prompt": f"about {code.value}"})
        finish(bot, job_id, [], status=JobStatus.FAILED, error_code=code, error="details for the log")
        final = await final_reply(sandbox, handle.original_message_id, 15)
        description = final["embeds"][0]["description"]
        assert phrase in description, (code, description)
        assert not any(i.startswith("atelier:extend:") for i in custom_ids(final))
