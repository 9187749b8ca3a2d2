"""Load a diffusers text-to-image pipeline from a preset: files, device, dtype, scheduler, variant."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from config.settings import ImagePreset
from models.base import GenerationError
from models.image import hub
from wire.contract import ErrorCode

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class Placement:
    """Where and in what precision the weights live."""

    device: str
    dtype: torch.dtype


def placement(preset: ImagePreset) -> Placement:
    """The preset's device and dtype, falling back to CPU without CUDA and to float32 on CPU."""
    device = preset.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        log.warning("preset asks for %s but CUDA is not available; using the CPU", device)
        device = "cpu"
    if device == "mps" and not torch.backends.mps.is_available():
        log.warning("preset asks for mps but it is not available; using the CPU")
        device = "cpu"
    dtype = DTYPES[preset.dtype]
    if device == "cpu" and dtype != torch.float32:
        log.info("using float32 on the CPU instead of %s", preset.dtype)
        dtype = torch.float32
    return Placement(device=device, dtype=dtype)


def set_scheduler(pipe: Any, name: str) -> None:
    """Replace the pipeline's scheduler by a diffusers scheduler class name, keeping its config."""
    import diffusers

    cls = getattr(diffusers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)):
        raise GenerationError(ErrorCode.NOT_AVAILABLE, f"'{name}' is not a diffusers scheduler.")
    pipe.scheduler = cls.from_config(pipe.scheduler.config)


def load_text2image(preset: ImagePreset, cache_dir: Path | None = None) -> tuple[Any, Path, Placement]:
    """The text-to-image pipeline of a preset, its folder, and its placement; MODEL_MISSING if absent."""
    from diffusers import AutoPipelineForText2Image

    folder = hub.local_path(preset.model, cache_dir)
    if folder is None:
        raise GenerationError(ErrorCode.MODEL_MISSING, hub.missing_message(preset.model))
    where = placement(preset)
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(
            str(folder), dtype=where.dtype, variant=preset.variant, local_files_only=True
        )
    except (OSError, ValueError) as error:
        log.warning("could not load %s from %s: %s", preset.model, folder, error)
        raise GenerationError(ErrorCode.MODEL_MISSING, hub.missing_message(preset.model)) from None
    if preset.scheduler:
        set_scheduler(pipe, preset.scheduler)
    pipe.to(where.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe, folder, where
