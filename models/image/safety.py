"""Output safety check, pluggable: diffusers' StableDiffusionSafetyChecker where its weights exist.

A pipeline loaded with a `safety_checker` component hands it over (the pipeline itself then no
longer blacks images out); a model folder with `safety_checker/` and `feature_extractor/` folders
provides one too. Otherwise the check is a no-op and says so, once, in the log and in every result.
Flagged images are blurred beyond recognition and listed in the result metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image, ImageFilter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SafetyResult:
    """Which images were flagged, and by what."""

    checker: str
    flagged: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_metadata(self) -> dict[str, Any]:
        return {"checker": self.checker, "flagged": list(self.flagged), "notes": list(self.notes)}


class SafetyChecker(Protocol):
    """Decides, image by image, whether an output may be shown."""

    name: str

    def check(self, images: list[Image.Image]) -> SafetyResult:
        """Flag unsafe images by index."""


class NoSafetyChecker:
    """Used when no safety checker weights are available: flags nothing, and says so."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        log.warning("image outputs are not safety-checked: %s", reason)

    def check(self, images: list[Image.Image]) -> SafetyResult:
        return SafetyResult(checker=self.name, notes=(f"not safety-checked: {self.reason}",))


class DiffusersSafetyChecker:
    """diffusers' StableDiffusionSafetyChecker with its CLIP image processor."""

    name = "stable-diffusion-safety-checker"

    def __init__(self, model: Any, processor: Any) -> None:
        self.model = model
        self.processor = processor

    def check(self, images: list[Image.Image]) -> SafetyResult:
        param = next(self.model.parameters())
        clip_input = self.processor(images, return_tensors="pt").pixel_values.to(param.device, param.dtype)
        arrays = np.stack([np.asarray(image, dtype=np.float32) / 255.0 for image in images])
        with torch.no_grad():
            _, flags = self.model(images=arrays, clip_input=clip_input)
        return SafetyResult(checker=self.name, flagged=tuple(i for i, flag in enumerate(flags) if flag))


def from_pipeline(pipe: Any, model_folder: Path | None) -> SafetyChecker:
    """Take the pipeline's own safety checker, else load one from the model folder, else a no-op."""
    model = getattr(pipe, "safety_checker", None)
    processor = getattr(pipe, "feature_extractor", None)
    if model is not None and processor is not None:
        pipe.safety_checker = None  # we check and blur ourselves, and say so in the metadata
        return DiffusersSafetyChecker(model, processor)
    if model_folder is not None and (model_folder / "safety_checker").is_dir():
        return _load(model_folder, pipe)
    return NoSafetyChecker("the model ships no safety checker weights")


def _load(folder: Path, pipe: Any) -> SafetyChecker:
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPImageProcessor

    try:
        model = StableDiffusionSafetyChecker.from_pretrained(folder / "safety_checker", local_files_only=True)
        processor = CLIPImageProcessor.from_pretrained(folder / "feature_extractor", local_files_only=True)
    except (OSError, ValueError) as error:
        return NoSafetyChecker(f"the safety checker in {folder} could not be loaded ({error})")
    model.to(pipe.device).eval()
    return DiffusersSafetyChecker(model, processor)


def blur(image: Image.Image) -> Image.Image:
    """An image blurred beyond recognition (what a flagged output becomes)."""
    radius = max(image.size) / 10
    return (
        image.resize((8, 8), Image.Resampling.BILINEAR)
        .resize(image.size)
        .filter(ImageFilter.GaussianBlur(radius))
    )
