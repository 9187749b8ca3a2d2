"""/compose, /imagine, /jobs and /help through the sandbox, answered by a real worker."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from PIL import Image

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.services import WorkerProcess

EPHEMERAL = 64


SYNCED = {
    "write",
    "compose",
    "imagine",
    "jobs",
    "help",
    "verify",
    "config",
    "challenge",
    "discover",
    "similar",
}
"""Every slash command the bot registers (a new feature's command belongs here too)."""


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


def job_of(message: dict[str, Any]) -> str:
    return custom_ids(message)[0].rsplit(":", 1)[1]


async def final_reply(server: SandboxServer, message_id: int | None, timeout: float = 120) -> dict[str, Any]:
    """The reply once it carries the finished buttons (reroll/delete)."""
    return await server.wait_for_message(
        lambda m: (
            int(m["id"]) == (message_id or 0) and any(i.startswith("atelier:delete:") for i in custom_ids(m))
        ),
        timeout,
    )


def attachment(message: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The one attachment of `message` whose file name ends with `suffix`."""
    (found,) = [a for a in message["attachments"] if a["filename"].endswith(suffix)]
    return found


def shown(message: dict[str, Any], item: dict[str, Any]) -> bool:
    """Whether the message's embed shows the attachment `item` (by `attachment://` name, as the bot
    sends it, or by its URL, as Discord resolves it)."""
    url = message["embeds"][0].get("image", {}).get("url")
    return url in {f"attachment://{item['filename']}", item["url"]}


async def download(item: dict[str, Any]) -> bytes:
    """The bytes of an attachment, fetched from its URL as a member's client fetches them."""
    async with aiohttp.ClientSession() as session, session.get(item["url"]) as response:
        assert response.status == 200, (response.status, item["url"])
        return await response.read()


async def test_compose_is_queued_and_answered(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command(
        "compose", {"style": "jig", "key": "D", "mode": "dorian", "tempo": 110, "bars": 8, "seed": 5}
    )
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 5 and not handle.rejections
    final = await final_reply(sandbox, handle.original_message_id)
    record = await wait_for_job(bot, job_of(final), lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED, (record.error_code, record.error)
    job = record.job
    assert job.modality == "music" and job.options.style == "jig" and job.options.tempo == 110  # type: ignore[union-attr]
    footer = final["embeds"][0]["footer"]["text"]
    assert "jig" in footer and "D dorian" in footer and "110 bpm" in footer
    audio, midi, roll = attachment(final, ".ogg"), attachment(final, ".mid"), attachment(final, ".png")
    assert (await download(audio)).startswith(b"OggS")
    assert (await download(midi)).startswith(b"MThd")
    assert (await download(roll)).startswith(b"\x89PNG")
    assert shown(final, roll)
    assert any(i.startswith("atelier:extend:") for i in custom_ids(final))


async def test_imagine_is_queued_and_answered(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command(
        "imagine", {"prompt": "a fox in the snow", "size": "512x512", "count": 2, "seed": 9, "steps": 1}
    )
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 5 and not handle.rejections
    final = await final_reply(sandbox, handle.original_message_id, 300)
    record = await wait_for_job(bot, job_of(final), lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED, (record.error_code, record.error)
    assert record.job.options.count == 2 and record.job.options.prompt == "a fox in the snow"  # type: ignore[union-attr]
    assert [a.kind for a in record.artifacts] == ["grid", "image", "image"]
    grid_ref = record.artifacts[0]
    grid = next(a for a in final["attachments"] if a["filename"] == grid_ref.filename)
    assert len(final["attachments"]) == 3
    picture = Image.open(io.BytesIO(await download(grid)))
    assert picture.format == "PNG" and picture.size == (1024, 512)  # two 512x512 images side by side
    assert shown(final, grid)


async def test_help_shows_every_command(bot: AtelierBot, sandbox: SandboxServer) -> None:
    handle = await sandbox.send_slash_command("help")
    await sandbox.wait_for_response(handle, 3)
    data = handle.response_data or {}
    assert data["flags"] & EPHEMERAL
    titles = [e["title"] for e in data["embeds"]]
    assert titles == ["/write", "/compose", "/imagine", "/jobs", "/verify"]
    assert all("Examples" in e["fields"][0]["name"] for e in data["embeds"])


async def test_commands_are_synced_once_with_chinese_translations(
    bot_control: Any, sandbox: SandboxServer
) -> None:
    await bot_control.start()
    synced = sandbox.commands(sandbox.guild_id)
    assert {c["name"] for c in synced} == SYNCED
    compose = next(c for c in synced if c["name"] == "compose")
    assert compose["name_localizations"]["zh-CN"] == "作曲"
    assert compose["description_localizations"]["zh-CN"].startswith("作一首曲子")
    puts = len(sandbox.requests_to("PUT /applications/*/commands"))
    assert puts == 1
    await bot_control.stop()
    await bot_control.start()
    assert len(sandbox.requests_to("PUT /applications/*/commands")) == puts  # unchanged: no second sync


async def test_production_syncs_globally(bot_control: Any, sandbox: SandboxServer) -> None:
    bot_control.settings = bot_control.settings.model_copy(update={"env": "production"})
    await bot_control.start()
    assert {c["name"] for c in sandbox.commands()} == SYNCED
    assert sandbox.commands(sandbox.guild_id) == []
    handle = await sandbox.send_slash_command("help")
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 4
