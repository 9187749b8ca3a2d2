"""Fixtures: the tiny pipeline on disk, backends loaded from it through presets (the fake context is
`tests.helpers.context.RecordingContext`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from config.settings import ImagePreset, Settings, load_settings
from models.image.backend import DiffusersImageBackend
from tests.models.image.tiny import build_pipeline
from wire.contract import ImageJob, ImageOptions


def image_job(**options: Any) -> ImageJob:
    options = {"prompt": "a lighthouse at dusk", "width": 64, "height": 64, **options}
    return ImageJob.model_validate({"options": ImageOptions(**options)})


def tiny_preset(folder: Path, **overrides: Any) -> ImagePreset:
    fields: dict[str, Any] = {
        "model": str(folder),
        "device": "cpu",
        "dtype": "float32",
        "default_steps": 2,
        "max_steps": 4,
        "guidance": 0.0,
        "sizes": [(64, 64), (64, 96)],
    }
    return ImagePreset(**(fields | overrides))


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


@pytest.fixture(scope="session")
def atelier_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(model_cache_dir=tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline(tmp_path_factory.mktemp("tiny") / "sd")


@pytest.fixture(scope="session")
def tiny_safety_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline(tmp_path_factory.mktemp("tiny-safety") / "sd", with_safety_checker=True)


@pytest.fixture(scope="session")
def backend(tiny_folder: Path, atelier_settings: Settings) -> DiffusersImageBackend:
    """The tiny pipeline loaded the way users' presets are (device cpu, float32, two sizes)."""
    return DiffusersImageBackend.from_preset("tiny", tiny_preset(tiny_folder), atelier_settings)
