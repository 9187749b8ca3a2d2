"""A running pipeline for tests: settings with a tiny real text model, the bot-side runtime and consumer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.db.jobs import JobRecord
from bot.runtime import Runtime, open_runtime
from config.settings import Settings, load_settings
from tests.helpers.gated import gated_preset_env
from tests.helpers.tiny_text import build_tiny_text_model
from tests.services import RedisServer
from wire.events import EventConsumer

TINY_PRESET = "tiny"


@pytest.fixture(scope="session")
def tiny_text_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_text_model(tmp_path_factory.mktemp("tiny-text") / "model")


@pytest.fixture(scope="session")
def tiny_image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny diffusers pipeline of `tests.models.image.tiny` (64x64 images), built once per session."""
    from tests.models.image.tiny import build_pipeline

    return build_pipeline(tmp_path_factory.mktemp("tiny-image") / "pipeline")


@pytest.fixture(scope="session")
def tiny_image_512_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny pipeline made for 512x512 images, the smallest `/imagine` offers."""
    from tests.models.image.tiny import build_pipeline

    return build_pipeline(tmp_path_factory.mktemp("tiny-image-512") / "pipeline", image_size=512)


def image_env(folder: Path, sizes: str = "[[64, 64]]", default_steps: int = 2) -> dict[str, str]:
    """The environment that makes a worker subprocess serve the tiny pipeline at `folder` as its
    default image preset `tiny`, on the CPU in float32."""
    return {
        "ATELIER_DEFAULT_IMAGE_PRESET": TINY_PRESET,
        "ATELIER_IMAGE_PRESETS__TINY__MODEL": str(folder),
        "ATELIER_IMAGE_PRESETS__TINY__DEVICE": "cpu",
        "ATELIER_IMAGE_PRESETS__TINY__DTYPE": "float32",
        "ATELIER_IMAGE_PRESETS__TINY__DEFAULT_STEPS": str(default_steps),
        "ATELIER_IMAGE_PRESETS__TINY__MAX_STEPS": "4",
        "ATELIER_IMAGE_PRESETS__TINY__SIZES": sizes,
    }


@pytest.fixture
def pipeline_database_url(tmp_path: Path) -> str:
    """SQLite by default; a module may override this fixture to run on PostgreSQL."""
    return f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"


@pytest.fixture
def pipeline_settings(
    redis_server: RedisServer,
    redis_client: object,
    tmp_path: Path,
    tiny_text_dir: Path,
    pipeline_database_url: str,
) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return load_settings(
        redis_url=redis_server.url,
        database_url=pipeline_database_url,
        events={"stream": f"test:{tag}:events", "group": "test-bot", "block_ms": 200, "claim_idle_ms": 1000},
        reconciler={"interval_s": 0.5, "queued_grace_s": 0.5, "running_grace_s": 3.0, "max_attempts": 3},
        model_cache_dir=tmp_path / "cache",
        default_text_preset=TINY_PRESET,
        text_presets={TINY_PRESET: {"model": str(tiny_text_dir), "max_new_tokens": 2048}},
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The extra environment a worker subprocess needs to see the tiny preset (and the gated one, which
    only a worker started with `app=tests.helpers.gated.WORKER_APP` holds at its gate)."""
    preset = settings.text_presets[TINY_PRESET]
    return {
        "ATELIER_DEFAULT_TEXT_PRESET": TINY_PRESET,
        "ATELIER_TEXT_PRESETS__TINY__MODEL": preset.model,
        "ATELIER_TEXT_PRESETS__TINY__MAX_NEW_TOKENS": str(preset.max_new_tokens),
        **gated_preset_env(preset.model),
    }


@pytest.fixture
async def runtime(pipeline_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(pipeline_settings) as rt:
        yield rt


class ConsumerControl:
    """Start and stop the bot-side event consumer, as a restarting bot would."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.task: asyncio.Task[None] | None = None
        self.stop_event = asyncio.Event()

    async def _handle(self, event: object) -> None:
        await self.rt.service.apply_event(event)  # type: ignore[arg-type]

    def start(self) -> None:
        self.stop_event = asyncio.Event()
        events = self.rt.settings.events
        consumer = EventConsumer(
            self.rt.redis,
            events.stream,
            events.group,
            "test-consumer",
            self._handle,
            block_ms=events.block_ms,
            claim_idle_ms=events.claim_idle_ms,
        )
        self.task = asyncio.create_task(consumer.run(self.stop_event))

    async def stop(self) -> None:
        if self.task is not None:
            self.stop_event.set()
            await self.task
            self.task = None


@pytest.fixture
async def consumer(runtime: Runtime) -> AsyncIterator[ConsumerControl]:
    control = ConsumerControl(runtime)
    control.start()
    yield control
    await control.stop()


WaitFor = Callable[[str, Callable[[JobRecord], bool], float], Awaitable[JobRecord]]


@pytest.fixture
def wait_for(runtime: Runtime) -> WaitFor:
    async def wait(job_id: str, predicate: Callable[[JobRecord], bool], timeout: float = 60.0) -> JobRecord:
        deadline = asyncio.get_running_loop().time() + timeout
        record = await runtime.jobs.get(job_id)
        while record is None or not predicate(record):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; last state: {record}")
            await asyncio.sleep(0.1)
            record = await runtime.jobs.get(job_id)
        return record

    return wait
