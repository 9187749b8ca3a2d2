"""/compose, /imagine, /jobs and /help through the sandbox, answered by a real worker."""

from __future__ import annotations

from typing import Any

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.services import WorkerProcess
from wire.contract import ErrorCode

EPHEMERAL = 64


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
    job = record.job
    assert job.modality == "music" and job.options.style == "jig" and job.options.tempo == 110  # type: ignore[union-attr]
    footer = final["embeds"][0]["footer"]["text"]
    assert "jig" in footer and "D dorian" in footer and "110 bpm" in footer
    if record.outcome is JobStatus.SUCCEEDED:
        names = [a["filename"] for a in final["attachments"]]
        assert any(n.endswith(".mid") for n in names), names
        assert any(i.startswith("atelier:extend:") for i in custom_ids(final))
    else:
        assert record.error_code in {ErrorCode.NOT_AVAILABLE, ErrorCode.MODEL_MISSING}, record.error
        assert final["embeds"][0]["description"]


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
    assert record.job.options.count == 2 and record.job.options.prompt == "a fox in the snow"  # type: ignore[union-attr]
    if record.outcome is JobStatus.SUCCEEDED:
        assert final["attachments"] and final["embeds"][0]["image"]["url"].startswith("http")
    else:
        assert record.error_code is not ErrorCode.INTERNAL, record.error
        assert final["embeds"][0]["description"]


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
    assert {c["name"] for c in synced} == {"write", "compose", "imagine", "jobs", "help", "verify"}
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
    assert {c["name"] for c in sandbox.commands()} == {
        "write",
        "compose",
        "imagine",
        "jobs",
        "help",
        "verify",
    }
    assert sandbox.commands(sandbox.guild_id) == []
    handle = await sandbox.send_slash_command("help")
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 4
