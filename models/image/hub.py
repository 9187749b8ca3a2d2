"""Model files on this machine: is a model installed, and fetch one (only where there is internet).

Used by the image backend and by `atelier models pull/list` (for text models too). Models live in the
standard Hugging Face cache (HF_HOME / HF_HUB_CACHE) unless a cache_dir is given; a model given as a
local folder is installed when the folder holds a `model_index.json` (diffusers) or `config.json`.
Backends never download: they load with local_files_only, so a missing model fails at once.
"""

from __future__ import annotations

from pathlib import Path

MARKER_FILES = ("model_index.json", "config.json")


def is_local(model_id: str) -> bool:
    """Whether a model reference names a folder on this machine (rather than a hub id)."""
    return Path(model_id).expanduser().is_dir() or model_id.startswith(("/", "./", "../", "~"))


def local_path(model_id: str, cache_dir: Path | None = None) -> Path | None:
    """The folder holding a model's files on this machine, or None when it is not installed."""
    if is_local(model_id):
        folder = Path(model_id).expanduser()
        return folder if any((folder / name).is_file() for name in MARKER_FILES) else None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(model_id, cache_dir=cache_dir, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return folder if any((folder / name).is_file() for name in MARKER_FILES) else None


def installed(model_id: str, cache_dir: Path | None = None) -> bool:
    """Whether a model (hub id or folder) can be loaded here without a network."""
    return local_path(model_id, cache_dir) is not None


def missing_message(model_id: str) -> str:
    """The sentence a member and an operator read when a model is not on the worker."""
    return (
        f"model {model_id} is not installed on this worker; an operator runs `atelier models pull {model_id}`"
    )


def pull(
    model_id: str,
    *,
    variant: str | None = None,
    cache_dir: Path | None = None,
    allow_patterns: list[str] | None = None,
) -> Path:
    """Download a model into the cache (needs internet) and return its folder.

    A diffusers pipeline repository is fetched with diffusers' own file selection (only the weights
    the pipeline loads, in the given variant); any other repository as a full snapshot, or only the
    files matching `allow_patterns`.
    """
    if is_local(model_id):
        raise ValueError(f"{model_id} is a local folder; there is nothing to pull")
    from huggingface_hub import file_exists, snapshot_download

    if allow_patterns is None and file_exists(model_id, "model_index.json"):
        from diffusers import DiffusionPipeline

        return Path(DiffusionPipeline.download(model_id, variant=variant, cache_dir=cache_dir))
    return Path(snapshot_download(model_id, cache_dir=cache_dir, allow_patterns=allow_patterns))
