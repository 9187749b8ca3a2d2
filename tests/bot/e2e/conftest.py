"""End to end with real processes: the sandbox Discord and the real bot in-process, a Celery worker
subprocess (one per module) with real models — a tiny text model, the tiny diffusers pipeline, the
committed music model — a private Redis and a fresh SQLite per test.

The worker runs `tests.helpers.gated_worker`: the production app, in which the text preset `gated`
holds each job at a gate the test opens (see `tests.helpers.gated`); every other preset is real."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.app import AtelierBot, create_bot
from bot.db.jobs import JobRecord
from bot.sandbox import SandboxServer, point_discord_at
from bot.sandbox.client_patch import current_endpoints, restore_endpoints
from config.settings import Settings, load_settings
from tests.bot.pipeline.conftest import TINY_PRESET, image_env, tiny_image_512_dir, tiny_text_dir, worker_env
from tests.conftest import settings_env
from tests.helpers.gated import GATED_PRESET, WORKER_APP
from tests.polling import wait_until
from tests.services import RedisServer, WorkerProcess

__all__ = ["tiny_image_512_dir", "tiny_text_dir"]

TOKEN = "sandbox-bot-token"
ALL_QUEUES = "gen.text,gen.music,gen.image"
IMAGE_SIZES = "[[512, 512]]"  # the smallest size /imagine offers
GUILD_READY_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def module_settings(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, tiny_text_dir: Path
) -> Settings:
    """Settings shared by a module's worker and bots (each test swaps in its own database)."""
    tag = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("e2e")
    return load_settings(
        redis_url=redis_server.url,
        database_url=f"sqlite+aiosqlite:///{root / 'module.db'}",
        events={"stream": f"e2e:{tag}:events", "group": "e2e-bot", "block_ms": 100, "claim_idle_ms": 1000},
        model_cache_dir=root / "cache",
        default_text_preset=TINY_PRESET,
        text_presets={
            TINY_PRESET: {"model": str(tiny_text_dir), "max_new_tokens": 2048},
            GATED_PRESET: {"model": str(tiny_text_dir)},
        },
        default_image_preset=TINY_PRESET,
        data_dir=root / "var",
    )


@pytest.fixture(scope="module")
def worker(
    module_settings: Settings, tmp_path_factory: pytest.TempPathFactory, tiny_image_512_dir: Path
) -> Iterator[WorkerProcess]:
    """One real Celery worker serving every queue for the whole module: text (tiny, and gated),
    images (the tiny pipeline at 512x512, one step by default) and music (the committed model)."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**worker_env(module_settings), **image_env(tiny_image_512_dir, IMAGE_SIZES, default_steps=1)}
    process = WorkerProcess(settings_env(module_settings, **env), ALL_QUEUES, log_path, app=WORKER_APP)
    process.start(timeout=120)
    yield process
    process.stop()


@pytest.fixture
def e2e_database_url(tmp_path: Path) -> str:
    """A fresh SQLite file; a module may override this fixture to run on PostgreSQL."""
    return f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"


@pytest.fixture
def settings(module_settings: Settings, tmp_path: Path, e2e_database_url: str) -> Settings:
    """This test's settings: its own database, data folder and consumer group."""
    events = module_settings.events.model_copy(update={"group": f"bot-{uuid.uuid4().hex[:8]}"})
    return module_settings.model_copy(
        update={
            "database_url": e2e_database_url,
            "data_dir": tmp_path / "var",
            "events": events,
        }
    )


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    saved = current_endpoints()
    async with SandboxServer(token=TOKEN) as server:
        point_discord_at(server.api_base, server.gateway_url)
        yield server
    restore_endpoints(saved)


class BotControl:
    """Start and stop the real bot against the sandbox, as often as a test needs."""

    def __init__(self, server: SandboxServer, settings: Settings) -> None:
        self.server = server
        self.settings = settings.model_copy(update={"discord_test_guild_id": server.guild_id})
        self.shards = settings.discord_shard_count or 1
        self.bot: AtelierBot | None = None
        self.task: asyncio.Task[None] | None = None
        self.starts = 0

    async def start(self) -> AtelierBot:
        self.starts += 1
        bot = create_bot(self.settings, consumer_name="e2e-bot")
        # discord.py waits this long after the last GUILD_CREATE before it is ready (2 s by default,
        # for Discord's trickle of guilds); the sandbox sends all of them right behind READY.
        bot._connection.guild_ready_timeout = GUILD_READY_TIMEOUT_S
        self.bot = bot
        self.task = asyncio.create_task(bot.start(TOKEN))
        await self.server.wait_until_ready(timeout=20, shards=self.starts * self.shards)
        await asyncio.wait_for(bot.wait_until_ready(), 20)
        return bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self.task is not None:
            await asyncio.wait_for(self.task, 20)
        self.bot = None
        self.task = None


@pytest.fixture
async def bot_control(sandbox: SandboxServer, settings: Settings) -> AsyncIterator[BotControl]:
    control = BotControl(sandbox, settings)
    yield control
    await control.stop()


@pytest.fixture
async def bot(bot_control: BotControl) -> AtelierBot:
    return await bot_control.start()


async def wait_for_job(
    bot: AtelierBot, job_id: str, predicate: Callable[[JobRecord], bool], timeout: float = 90
) -> JobRecord:
    async def check() -> JobRecord | None:
        record = await bot.runtime.jobs.get(job_id)
        return record if record is not None and predicate(record) else None

    record: JobRecord = await wait_until(check, timeout)
    return record
