"""Which backend serves which preset, loaded once per worker process on first use."""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from config.settings import ImagePreset, MusicPreset, Settings, TextPreset, get_settings
from models.base import Backend, GenerationError
from wire.contract import ErrorCode

log = logging.getLogger(__name__)

# (modality, preset.backend) -> "module:Class"; the class has `from_preset(name, preset, settings)`.
BACKENDS: dict[tuple[str, str], str] = {
    ("text", "transformers"): "models.text.backend:TransformersTextBackend",
    ("text", "openai"): "models.text.server:OpenAITextBackend",
    ("image", "diffusers"): "models.image.backend:DiffusersImageBackend",
    ("music", "atelier-music"): "models.music.backend:MusicBackend",
}

_cache: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()


def presets_for(modality: str, settings: Settings) -> dict[str, TextPreset | ImagePreset | MusicPreset]:
    """The configured presets of one modality."""
    table: dict[str, dict[str, Any]] = {
        "text": settings.text_presets,
        "image": settings.image_presets,
        "music": settings.music_presets,
    }
    return dict(table[modality])


def default_preset(modality: str, settings: Settings) -> str:
    return str(getattr(settings, f"default_{modality}_preset"))


def resolve_preset(
    modality: str, name: str | None, settings: Settings
) -> tuple[str, TextPreset | ImagePreset | MusicPreset]:
    """Find a preset by name (None: the default); GenerationError if there is none by that name."""
    presets = presets_for(modality, settings)
    chosen = name or default_preset(modality, settings)
    if chosen not in presets:
        known = ", ".join(sorted(presets)) or "none"
        raise GenerationError(
            ErrorCode.INVALID_INPUT, f"There is no {modality} preset called '{chosen}'. Available: {known}."
        )
    return chosen, presets[chosen]


def _backend_class(modality: str, backend: str) -> Any:
    path = BACKENDS.get((modality, backend))
    if path is None:
        raise GenerationError(ErrorCode.NOT_AVAILABLE, f"No {modality} backend called '{backend}'.")
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        log.warning("backend %s unavailable: %s", path, error)
        raise GenerationError(
            ErrorCode.NOT_AVAILABLE,
            f"{modality.capitalize()} generation is not available on this server yet.",
        ) from None
    return getattr(module, class_name)


def get_backend(modality: str, preset: str | None = None, settings: Settings | None = None) -> Backend:
    """The loaded backend for a preset, built on first use and kept for the life of the process."""
    settings = settings or get_settings()
    name, config = resolve_preset(modality, preset, settings)
    key = (modality, name)
    with _lock:
        if key not in _cache:
            cls = _backend_class(modality, config.backend)
            log.info("loading %s backend for preset %s", modality, name)
            _cache[key] = cls.from_preset(name, config, settings)
        return _cache[key]


def loaded_backends() -> dict[tuple[str, str], Backend]:
    """What this process has loaded so far."""
    return dict(_cache)


def clear_cache() -> None:
    """Forget loaded backends (tests)."""
    with _lock:
        _cache.clear()
