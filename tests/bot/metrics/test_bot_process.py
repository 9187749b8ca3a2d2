"""`atelier bot` as a real process (against its own sandbox Discord) and a real Celery worker, both
with `/metrics` on: /write jobs held running, finished and failed, and a prompt the safety rules
stop, each read back from the bot's endpoint with prometheus_client's parser."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from bot.cli.discord_cmds import is_final
from config.settings import Settings
from tests.conftest import settings_env
from tests.helpers.gated import GATED_PRESET, WORKER_APP, gate_key, gated_preset_env
from tests.helpers.scrape import Scrape, scrape
from tests.polling import wait_until
from tests.services import ROOT, WorkerProcess, free_port
from wire.routing import queue_for

MISSING_PRESET = "missing"
BLOCKED = "zorblax"


@dataclass
class Stack:
    bot_port: int
    worker_port: int
    http: aiohttp.ClientSession
    state: dict[str, Any]


@pytest.fixture
def stack_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return settings_env(
        settings,
        ATELIER_DATA_DIR=str(tmp_path / "var"),
        ATELIER_TEXT_PRESETS__MISSING__MODEL=str(tmp_path / "no-such-model"),
        ATELIER_MODERATION__BLOCKED_TERMS=f'["{BLOCKED}"]',
        ATELIER_METRICS__REFRESH_S="0.3",
        **gated_preset_env("gated-model"),
    )


@pytest.fixture
def worker(stack_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[WorkerProcess, int]]:
    port = free_port()
    env = {**stack_env, "ATELIER_METRICS__WORKER_PORT": str(port)}
    process = WorkerProcess(env, queue_for("text"), tmp_path / "worker.log", app=WORKER_APP)
    process.start(timeout=120)
    yield process, port
    process.stop()


@pytest.fixture
async def stack(
    stack_env: dict[str, str], worker: tuple[WorkerProcess, int], tmp_path: Path
) -> AsyncIterator[Stack]:
    bot_port, sandbox_port = free_port(), free_port()
    env = {**stack_env, "ATELIER_METRICS__BOT_PORT": str(bot_port)}
    log = (tmp_path / "bot.log").open("wb")
    atelier = str(Path(sys.executable).with_name("atelier"))
    process = subprocess.Popen(
        [atelier, "bot", "--sandbox-port", str(sandbox_port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{sandbox_port}/") as http:

            async def synced() -> dict[str, Any] | None:
                assert process.poll() is None, (tmp_path / "bot.log").read_text()[-3000:]
                try:
                    async with http.get("_sandbox/state") as response:
                        state: dict[str, Any] = await response.json()
                except aiohttp.ClientError:
                    return None
                names = {c["name"] for c in state["commands"]["guild"]}
                return state if "write" in names else None

            state = await wait_until(synced, 120, interval=0.2)
            yield Stack(bot_port, worker[1], http, state)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


async def scraped(port: int, check: Callable[[Scrape], bool], timeout: float = 120) -> Scrape:
    """Scrape until `check` holds, within a deadline."""

    async def attempt() -> Scrape | None:
        found = await asyncio.to_thread(scrape, port)
        return found if found is not None and check(found) else None

    result: Scrape = await wait_until(attempt, timeout, interval=0.2)
    return result


async def write(stack: Stack, options: dict[str, Any]) -> str:
    """Send /write as the sandbox's member; the interaction's id."""
    body = {"name": "write", "options": options, "wait": 3}
    async with stack.http.post("_sandbox/interactions", json=body) as response:
        handle: dict[str, Any] = await response.json()
        assert response.status < 400, handle
    return str(handle["id"])


async def final_reply(stack: Stack, interaction_id: str) -> dict[str, Any]:
    """Wait for the interaction's final message (an ephemeral answer or the finished result)."""

    async def final() -> dict[str, Any] | None:
        async with stack.http.get(f"_sandbox/interactions/{interaction_id}") as response:
            handle = await response.json()
        assert not handle["rejections"], handle["rejections"]
        ids = [i for i in [handle["original_message_id"], *handle["followup_ids"]] if i]
        channel = stack.state["channel_id"]
        async with stack.http.get(f"_sandbox/messages?channel_id={channel}") as response:
            messages = {m["id"]: m for m in await response.json()}
        return next((messages[i] for i in ids if i in messages and is_final(messages[i])), None)

    message: dict[str, Any] = await wait_until(final, 120, interval=0.2)
    return message


async def test_the_bot_process_exports_jobs_deliveries_interactions_and_safety(
    stack: Stack, redis_client: redis.Redis
) -> None:
    guild = stack.state["guild_id"]
    start = await scraped(
        stack.bot_port, lambda s: s.value("atelier_queue_depth", modality="text", status="running") == 0
    )
    assert {d["modality"] for d in start.labelsets("atelier_queue_depth")} == {"music", "image", "text"}
    assert start.value("atelier_broker_queue_messages", queue="gen.text") == 0

    # a job held running: the queue depths per modality and per server see it
    held = await write(stack, {"prompt": "a held poem", "preset": GATED_PRESET})
    running = await scraped(
        stack.bot_port, lambda s: s.value("atelier_server_queue_depth", guild=guild, status="running") == 1
    )
    assert running.value("atelier_queue_depth", modality="text", status="running") == 1
    assert running.value("atelier_jobs_submitted_total", modality="text") == 1
    assert running.value("atelier_interactions_total", type="command", name="write") == 1
    assert running.value("atelier_interaction_defer_seconds_count", type="command") == 1
    assert running.total("atelier_interaction_defer_seconds_bucket", type="command", le="3.0") == 1
    job_ids = [k.decode().split(":")[2] for k in redis_client.scan_iter("test:gate:*:entered")]
    assert len(job_ids) == 1

    redis_client.set(gate_key(job_ids[0]), "1")
    reply = await final_reply(stack, held)
    assert "Past the gate" in str(reply)
    done = await scraped(
        stack.bot_port,
        lambda s: s.value("atelier_deliveries_total", modality="text", outcome="delivered") == 1,
    )
    assert done.value("atelier_jobs_finished_total", modality="text", outcome="succeeded") == 1
    for phase in ("queued", "running", "delivering"):
        assert done.value("atelier_job_phase_seconds_count", modality="text", phase=phase) == 1, phase
    assert done.types["atelier_job_phase_seconds"] == "histogram"
    idle = await scraped(stack.bot_port, lambda s: s.total("atelier_server_queue_depth") == 0)
    assert idle.value("atelier_queue_depth", modality="text", status="running") == 0

    # a job that fails on the worker: counted by its error code, and its message still delivered
    await final_reply(stack, await write(stack, {"prompt": "no model here", "preset": MISSING_PRESET}))
    failed = await scraped(
        stack.bot_port,
        lambda s: s.value("atelier_job_failures_total", modality="text", error_code="model_missing") == 1,
    )
    assert failed.value("atelier_jobs_finished_total", modality="text", outcome="failed") == 1
    assert failed.value("atelier_interactions_total", type="command", name="write") == 2
    worker = await scraped(
        stack.worker_port,
        lambda s: (
            s.value("atelier_worker_job_failures_total", modality="text", error_code="model_missing") == 1
        ),
    )
    assert worker.value("atelier_worker_jobs_total", modality="text", outcome="succeeded") == 1

    # a prompt the operator's blocked terms stop: a safety block and a refusal, no job
    refused = await final_reply(stack, await write(stack, {"prompt": f"a poem about {BLOCKED}"}))
    assert refused["flags"] & 64  # answered privately
    blocked = await scraped(
        stack.bot_port,
        lambda s: s.value("atelier_safety_blocks_total", stage="prompt", rule="operator_terms") == 1,
    )
    assert blocked.value("atelier_refusals_total", reason="policy.blocked") == 1
    assert blocked.value("atelier_jobs_submitted_total", modality="text") == 2
    assert blocked.value("atelier_interactions_total", type="command", name="write") == 3
    assert blocked.value("atelier_interaction_defer_seconds_count", type="command") == 3
