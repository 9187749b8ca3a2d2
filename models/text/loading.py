"""Finding, converting, caching and loading a causal language model for a text preset.

A preset's `model` is a Hugging Face id, a local folder, or `package:<module>` for a GGUF file shipped
inside an installed Python package. GGUF weights are dequantized once by transformers (slow) and the
result is cached as safetensors under `<model_cache_dir>/text/<preset>-<hash>`, written atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from config.settings import TextPreset
from models.base import GenerationError
from models.text.quantize import apply_quantization
from wire.contract import ErrorCode

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "package:"
CACHE_MARKER = "atelier-cache.json"
STALE_TEMP_S = 3600.0

SourceKind = Literal["hub", "folder", "package", "server"]


@dataclass(frozen=True)
class ModelSource:
    """Where a preset's weights come from."""

    kind: SourceKind
    location: str  # hub id, or the folder holding the weights (or the GGUF file)
    gguf_file: str | None = None

    @property
    def label(self) -> str:
        """A short, stable description for provenance and logs."""
        base = self.location if self.kind != "package" else f"{PACKAGE_PREFIX}{Path(self.location).name}"
        return f"{base}/{self.gguf_file}" if self.gguf_file else base


@dataclass
class LoadedModel:
    """A model ready to generate, with how it was obtained."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    source: ModelSource
    load_s: float
    cache: Literal["hit", "converted", "none"]
    cache_dir: Path | None
    quantize: str = "none"


def missing(name: str, detail: str = "") -> GenerationError:
    """The error a worker reports when a preset's weights are not on this machine."""
    message = f"model {name} is not installed on this worker; an operator runs `atelier models pull {name}`"
    if detail:
        log.warning("model %s missing: %s", name, detail)
    return GenerationError(ErrorCode.MODEL_MISSING, message)


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE asks for no network access."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _looks_like_path(model: str) -> bool:
    return model.startswith(("./", "../", "~")) or Path(model).is_absolute()


def resolve_source(name: str, preset: TextPreset) -> ModelSource:
    """Work out where a preset's weights live, without importing anything; MODEL_MISSING if absent.

    An inference-server preset (`backend = "openai"`) has its weights on the server: its source is the
    server's URL (nothing is checked here; a job that finds the server down gets a clear result).
    """
    model = preset.model.strip()
    if preset.backend == "openai":
        return ModelSource("server", f"{preset.base_url} {model}")
    if model.startswith(PACKAGE_PREFIX):
        module = model.removeprefix(PACKAGE_PREFIX)
        try:
            # A top-level name is found without running the package (which may import missing things).
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as error:
            raise missing(name, f"find_spec({module!r}) failed: {error}") from None
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            raise missing(name, f"no installed package called {module!r}")
        if not preset.gguf_file:
            raise GenerationError(ErrorCode.INTERNAL, f"text preset {name} names a package but no gguf_file")
        for folder in locations:
            if (Path(folder) / preset.gguf_file).is_file():
                return ModelSource("package", str(Path(folder).resolve()), preset.gguf_file)
        raise missing(name, f"{preset.gguf_file} not found in {locations}")
    path = Path(model).expanduser()
    if path.exists():
        if preset.gguf_file and not (path / preset.gguf_file).is_file():
            raise missing(name, f"{preset.gguf_file} not found in {path}")
        if not preset.gguf_file and not (path / "config.json").is_file():
            raise missing(name, f"{path} has no config.json")
        return ModelSource("folder", str(path.resolve()), preset.gguf_file)
    if _looks_like_path(model):
        raise missing(name, f"no folder {path}")
    return ModelSource("hub", model, preset.gguf_file)


def cache_dir_for(cache_root: Path, name: str, source: ModelSource) -> Path:
    """`<cache_root>/text/<preset>-<hash>`: the hash changes when the source or the file changes."""
    identity = f"{source.kind}\0{source.location}\0{source.gguf_file or ''}"
    if source.gguf_file and source.kind != "hub":
        identity += f"\0{(Path(source.location) / source.gguf_file).stat().st_size}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return cache_root / "text" / f"{name}-{digest}"


def _torch_dtype(dtype: str) -> torch.dtype:
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]


def _check_device(name: str, device: str) -> None:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GenerationError(
            ErrorCode.NOT_AVAILABLE, f"text preset {name} needs a GPU (cuda), which this worker does not have"
        )


def _from_pretrained(
    name: str, where: str, dtype: torch.dtype, gguf_file: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load model and tokenizer; a missing or unreachable model becomes MODEL_MISSING."""
    common: dict[str, Any] = {"local_files_only": True} if hub_offline() else {}
    if gguf_file:
        common["gguf_file"] = gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, **common)
        model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype, **common)
    except (OSError, ValueError) as error:
        raise missing(name, f"loading {where}: {error}") from None
    return model, tokenizer


def _remove_stale_temps(final: Path) -> None:
    """Drop temp folders that a killed conversion left beside the cache."""
    if not final.parent.is_dir():
        return
    for leftover in final.parent.glob(f".{final.name}.tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > STALE_TEMP_S:
                shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _conversion_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache folder: workers that start together convert once, not each."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def convert_gguf(name: str, source: ModelSource, final: Path) -> None:
    """Dequantize a GGUF model once and save it (safetensors) at `final`, atomically."""
    assert source.gguf_file
    where = source.location
    started = time.perf_counter()
    log.info("converting %s to %s (once; this takes a while)", source.label, final)
    model, tokenizer = _from_pretrained(name, where, torch.float32, gguf_file=source.gguf_file)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # the weights are plain tensors now; drop the GGUF marker so it can be saved
        quantizer.remove_quantization_config(model)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final)
    temp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(temp, safe_serialization=True)
        tokenizer.save_pretrained(temp)
        marker = {"source": source.label, "converted_s": round(time.perf_counter() - started, 2)}
        (temp / CACHE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(temp, final)
        except OSError:
            if not (final / CACHE_MARKER).is_file():  # not a concurrent winner: a real failure
                raise
            log.info("another process cached %s first; keeping theirs", final)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    log.info("converted %s in %.1f s", source.label, time.perf_counter() - started)


def ensure_converted(name: str, source: ModelSource, cache_dir: Path) -> Literal["hit", "converted"]:
    """Convert the GGUF model into `cache_dir` unless it is there; workers starting together convert once."""
    if (cache_dir / CACHE_MARKER).is_file():
        return "hit"
    with _conversion_lock(cache_dir.parent):
        if (cache_dir / CACHE_MARKER).is_file():  # another worker converted it while this one waited
            return "hit"
        convert_gguf(name, source, cache_dir)
        return "converted"


def preset_quantize(preset: TextPreset) -> str:
    """The preset's `quantize` setting ("none" or "int8"); "none" where settings have no such field."""
    return str(getattr(preset, "quantize", None) or "none")


def load_model(name: str, preset: TextPreset, cache_root: Path, quantize: str | None = None) -> LoadedModel:
    """Load a preset's model and tokenizer onto its device and dtype (converting GGUF once).

    `quantize` ("none" or "int8") overrides the preset's own setting.
    """
    started = time.perf_counter()
    _check_device(name, preset.device)
    if preset.threads:
        torch.set_num_threads(preset.threads)
    source = resolve_source(name, preset)
    cache: Literal["hit", "converted", "none"] = "none"
    cache_dir: Path | None = None
    if source.gguf_file:
        cache_dir = cache_dir_for(cache_root, name, source)
        cache = ensure_converted(name, source, cache_dir)
        model, tokenizer = _from_pretrained(name, str(cache_dir), _torch_dtype(preset.dtype))
    else:
        model, tokenizer = _from_pretrained(name, source.location, _torch_dtype(preset.dtype))
    torch.nn.Module.to(model, torch.device(preset.device))
    model.eval()
    mode = apply_quantization(model, quantize or preset_quantize(preset), torch.device(preset.device))
    load_s = time.perf_counter() - started
    log.info(
        "loaded text model %s (%s) in %.2f s, cache %s, quantize %s", name, source.label, load_s, cache, mode
    )
    return LoadedModel(model, tokenizer, source, load_s, cache, cache_dir, mode)
