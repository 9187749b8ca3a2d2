"""/write end to end, and the buttons on its result: reroll and cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import AtelierBot
from bot.cli.discord_cmds import _send as send_via_sandbox
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from tests.bot.e2e.conftest import wait_for_job
from tests.helpers.gated import GATED_PRESET, entered_key, gate_key
from tests.polling import wait_until
from tests.services import WorkerProcess

FINISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DELIVERED}


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


def edits_of(server: SandboxServer, token: str) -> list[dict[str, Any]]:
    """JSON bodies the bot sent to edit an interaction's reply (PATCH …/messages/…)."""
    return [r.json or {} for r in server.requests_to(f"PATCH /webhooks/*/{token}/messages/*")]


async def test_write_end_to_end(bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess) -> None:
    handle = await sandbox.send_slash_command(
        "write", {"prompt": "rain on the roof", "kind": "poem", "length": 300, "seed": 3}
    )
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 5  # deferred, public
    assert not handle.rejections

    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == handle.original_message_id and bool(m.get("attachments")), 90
    )
    embed = final["embeds"][0]
    assert embed["description"].strip()
    assert "poem" in embed["footer"]["text"] and "seed 3" in embed["footer"]["text"]
    assert any(a["filename"].endswith(".txt") for a in final["attachments"])
    ids = custom_ids(final)
    assert any(i.startswith("atelier:reroll:") for i in ids) and any(
        i.startswith("atelier:delete:") for i in ids
    )

    job_id = ids[0].rsplit(":", 1)[1]
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED
    descriptions = [
        (e.get("embeds") or [{}])[0].get("description", "") for e in edits_of(sandbox, handle.token)
    ]
    assert any("Queued" in d for d in descriptions), descriptions
    assert any("Working on it" in d for d in descriptions), descriptions


async def test_reroll_makes_a_child_job(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "moon over hills", "length": 8})
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m.get("attachments")), 90
    )
    parent_id = custom_ids(final)[0].rsplit(":", 1)[1]
    click = await sandbox.click_button(final, f"atelier:reroll:{parent_id}")
    await sandbox.wait_for_response(click, 3)
    child_message = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (click.original_message_id or 0) and bool(m.get("attachments")), 90
    )
    child_id = custom_ids(child_message)[0].rsplit(":", 1)[1]
    assert child_id != parent_id
    child = await wait_for_job(bot, child_id, lambda r: r.status in FINISHED)
    parent = await bot.runtime.jobs.get(parent_id)
    assert parent is not None and child.parent_id == parent_id
    assert child.job.options.prompt == parent.job.options.prompt  # type: ignore[union-attr]
    assert child.job.options.seed != parent.job.options.seed  # type: ignore[union-attr]


async def held_at_the_gate(bot: AtelierBot, job_id: str) -> None:
    """Wait until the worker runs the job and holds it at its gate (`tests.helpers.gated`)."""
    await wait_until(lambda: bot.runtime.redis.get(entered_key(job_id)), 60)
    await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.RUNNING, 30)


async def test_cancel_button_stops_a_running_job(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command(
        "write", {"prompt": "a very long story", "preset": GATED_PRESET}
    )
    queued = await sandbox.wait_for_message(
        lambda m: (
            int(m["id"]) == (handle.original_message_id or 0)
            and any(i.startswith("atelier:cancel:") for i in custom_ids(m))
        ),
        10,
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    await held_at_the_gate(bot, job_id)  # it cannot finish by itself before the click
    click = await sandbox.click_button(queued, f"atelier:cancel:{job_id}")
    await sandbox.wait_for_response(click, 3)
    assert click.response_data and click.response_data.get("flags", 0) & 64  # ephemeral
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 60)
    assert record.outcome is JobStatus.CANCELLED
    assert not await bot.runtime.redis.exists(gate_key(job_id))  # the click alone ended it
    final = await wait_until(lambda: sandbox.core.messages.get(handle.original_message_id or 0), 5)
    assert "Cancelled" in final.data["embeds"][0]["description"]


async def test_someone_else_cannot_cancel(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "wind in pines", "preset": GATED_PRESET})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    await held_at_the_gate(bot, job_id)  # still running when the other member clicks
    other = sandbox.world.add_user("someone-else")
    sandbox.world.add_member(sandbox.guild_id, other)
    click = await sandbox.click_button(queued, f"atelier:cancel:{job_id}", user=other)
    await sandbox.wait_for_response(click, 3)
    assert "Only the member" in (click.response_data or {}).get("content", "")
    record = await bot.runtime.jobs.get(job_id)
    assert record is not None and record.cancel_requested_at is None
    assert record.status is JobStatus.RUNNING
    await bot.runtime.service.cancel(job_id)
    cancelled = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 60)
    assert cancelled.outcome is JobStatus.CANCELLED


async def test_sandbox_send_follows_the_reply_and_saves_files(
    bot: AtelierBot,
    sandbox: SandboxServer,
    worker: WorkerProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await send_via_sandbox(
        sandbox.base_url, "/write prompt:rain on the old roof kind:poem length:12", tmp_path, 90, False
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(thinking…)" in out and "/write" in out
    (saved,) = tmp_path.glob("*.txt")
    assert "AI-generated" in saved.read_text()
