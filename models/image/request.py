"""Turn an ImageJob into checked generation parameters (sizes, steps, seeds, init image)."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from PIL import Image

from config.settings import ImagePreset
from models.base import GenerationContext, GenerationError
from models.image.attachments import fit, load_image
from wire.contract import ErrorCode, ImageJob

SEED_SPACE = 2**32


@dataclass(frozen=True)
class ImageRequest:
    """One job's parameters, checked against its preset."""

    job: ImageJob
    width: int
    height: int
    steps: int
    guidance: float
    seeds: tuple[int, ...]
    init_image: Image.Image | None = None
    strength: float = 1.0

    @property
    def count(self) -> int:
        return len(self.seeds)

    def batch_key(self) -> tuple[int, int, int, float, bool]:
        """Jobs with equal keys can share one pipeline call (text-to-image only)."""
        return (self.width, self.height, self.steps, self.guidance, self.init_image is None)


def seeds_for(seed: int | None, count: int) -> tuple[int, ...]:
    """Per-image seeds: seed, seed+1, … (wrapping at 2³²); a random start when no seed is given."""
    start = secrets.randbelow(SEED_SPACE) if seed is None else seed
    return tuple((start + i) % SEED_SPACE for i in range(count))


def _sizes(preset: ImagePreset) -> str:
    return ", ".join(f"{w}x{h}" for w, h in preset.sizes)


def prepare(job: ImageJob, preset: ImagePreset, ctx: GenerationContext) -> ImageRequest:
    """Check a job against its preset and load its init image; INVALID_INPUT with a clear sentence."""
    options = job.options
    if (options.width, options.height) not in {tuple(size) for size in preset.sizes}:
        raise GenerationError(
            ErrorCode.INVALID_INPUT,
            f"{options.width}x{options.height} is not available for this model; choose one of {_sizes(preset)}.",
        )
    steps = options.steps if options.steps is not None else preset.default_steps
    if steps > preset.max_steps:
        raise GenerationError(
            ErrorCode.INVALID_INPUT, f"This model takes at most {preset.max_steps} steps (asked for {steps})."
        )
    guidance = options.guidance if options.guidance is not None else preset.guidance
    init_image = None
    strength = 1.0
    if options.init_artifact is not None:
        init_image = fit(load_image(ctx.load_input(options.init_artifact)), options.width, options.height)
        strength = options.strength
        # image-to-image runs int(steps * strength) steps; at least one must run
        needed = math.ceil(1 / strength)
        if steps * strength < 1:
            if needed > preset.max_steps:
                raise GenerationError(
                    ErrorCode.INVALID_INPUT,
                    f"A strength of {strength} needs {needed} steps, more than this model's {preset.max_steps}.",
                )
            steps = needed
    return ImageRequest(
        job=job,
        width=options.width,
        height=options.height,
        steps=steps,
        guidance=guidance,
        seeds=seeds_for(options.seed, options.count),
        init_image=init_image,
        strength=strength,
    )
