"""The diffusers image backend: text-to-image and image-to-image, one job or a batch of them."""

from __future__ import annotations

import inspect
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from config.settings import ImagePreset, Settings
from models.base import (
    Backend,
    GenerationContext,
    GenerationError,
    GenerationOutput,
    JobCancelled,
    OutputFile,
)
from models.image import safety
from models.image.grid import make_grid
from models.image.pipeline import Placement, load_text2image
from models.image.request import ImageRequest, prepare
from provenance import provenance_record
from provenance.image import stamp_png, watermark_status
from wire.contract import ErrorCode, ImageJob

log = logging.getLogger(__name__)

BatchResult = GenerationOutput | GenerationError | JobCancelled


class DiffusersImageBackend(Backend):
    """A loaded diffusers pipeline serving one image preset."""

    modality = "image"

    def __init__(
        self,
        name: str,
        preset: ImagePreset,
        pipe: Any,
        where: Placement,
        checker: safety.SafetyChecker,
        folder: Path | None = None,
    ) -> None:
        self.name = name
        self.preset = preset
        self.pipe = pipe
        self.where = where
        self.checker = checker
        self.folder = folder
        self._image2image: Any = None

    @classmethod
    def from_preset(cls, name: str, preset: ImagePreset, settings: Settings) -> DiffusersImageBackend:
        """Load the preset's pipeline from this machine (never downloads); MODEL_MISSING if absent."""
        pipe, folder, where = load_text2image(preset)
        checker = safety.from_pipeline(pipe, folder)
        log.info("image preset %s: %s on %s (%s)", name, preset.model, where.device, where.dtype)
        return cls(name, preset, pipe, where, checker, folder)

    def describe(self) -> dict[str, Any]:
        return super().describe() | {
            "preset": self.name,
            "model": self.preset.model,
            "pipeline": type(self.pipe).__name__,
            "device": self.where.device,
            "dtype": str(self.where.dtype).removeprefix("torch."),
            "sizes": [list(size) for size in self.preset.sizes],
            "safety_checker": self.checker.name,
        }

    @property
    def image2image(self) -> Any:
        """The image-to-image pipeline sharing the text-to-image weights (built on first use)."""
        if self._image2image is None:
            from diffusers import AutoPipelineForImage2Image

            self._image2image = AutoPipelineForImage2Image.from_pipe(self.pipe)
            self._image2image.set_progress_bar_config(disable=True)
        return self._image2image

    def generate(self, job: Any, ctx: GenerationContext) -> GenerationOutput:
        """Run one image job."""
        if not isinstance(job, ImageJob):
            raise GenerationError(ErrorCode.INVALID_INPUT, "The image backend only runs image jobs.")
        result = self.run_batch([job], [ctx])[0]
        if isinstance(result, GenerationOutput):
            return result
        raise result

    def run_batch(self, jobs: Sequence[ImageJob], contexts: Sequence[GenerationContext]) -> list[BatchResult]:
        """Run several jobs, sharing one pipeline call among text-to-image jobs of equal size, steps and
        guidance. Returns, per job and in order, its output or the error/cancel that ended it."""
        if len(jobs) != len(contexts):
            raise ValueError("run_batch needs one context per job")
        results: list[BatchResult | None] = [None] * len(jobs)
        groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        requests: dict[int, ImageRequest] = {}
        for index, (job, ctx) in enumerate(zip(jobs, contexts, strict=True)):
            try:
                requests[index] = prepare(job, self.preset, ctx)
            except GenerationError as error:
                results[index] = error
                continue
            key = requests[index].batch_key()
            groups[key if requests[index].init_image is None else (index, *key)].append(index)
        for members in groups.values():
            reqs = [requests[i] for i in members]
            ctxs = [contexts[i] for i in members]
            try:
                outputs = self._run_group(reqs, ctxs)
            except (GenerationError, JobCancelled) as error:
                outputs = [error] * len(members)
            for i, output in zip(members, outputs, strict=True):
                results[i] = output
        done = [r for r in results if r is not None]
        assert len(done) == len(jobs), "every job is prepared, then run in exactly one group"
        return done

    def _run_group(self, reqs: list[ImageRequest], ctxs: list[GenerationContext]) -> list[BatchResult]:
        started = time.perf_counter()
        images = self._call(reqs, ctxs)
        generate_s = time.perf_counter() - started
        results: list[BatchResult] = []
        offset = 0
        for req, ctx in zip(reqs, ctxs, strict=True):
            own = images[offset : offset + req.count]
            offset += req.count
            if ctx.is_cancelled():
                results.append(JobCancelled(req.job.id))
                continue
            results.append(self._deliver(req, own, generate_s, batch_size=len(reqs)))
        return results

    def _call(self, reqs: list[ImageRequest], ctxs: list[GenerationContext]) -> list[Image.Image]:
        """One pipeline call for all images of the requests, reporting progress and honouring cancel."""
        first = reqs[0]
        image2image = first.init_image is not None
        pipe = self.image2image if image2image else self.pipe
        accepts = inspect.signature(pipe.__call__).parameters
        kwargs: dict[str, Any] = {
            "prompt": [r.job.options.prompt for r in reqs for _ in r.seeds],
            "num_inference_steps": first.steps,
            "guidance_scale": first.guidance,
            "generator": [torch.Generator("cpu").manual_seed(seed) for r in reqs for seed in r.seeds],
            "callback_on_step_end": _StepReporter(ctxs, first.steps),
            "output_type": "pil",
        }
        negatives = [r.job.options.negative_prompt for r in reqs for _ in r.seeds]
        if any(negatives) and "negative_prompt" in accepts:
            kwargs["negative_prompt"] = negatives
        if image2image:
            kwargs |= {"image": [first.init_image] * first.count, "strength": first.strength}
        else:
            kwargs |= {"width": first.width, "height": first.height}
        with torch.inference_mode():
            output = pipe(**kwargs)
        return list(output.images)

    def _deliver(
        self, req: ImageRequest, images: list[Image.Image], generate_s: float, batch_size: int
    ) -> GenerationOutput:
        started = time.perf_counter()
        job = req.job
        check = self.checker.check(images)
        shown = [safety.blur(im) if i in check.flagged else im for i, im in enumerate(images)]
        parameters = {
            "preset": self.name,
            "width": req.width,
            "height": req.height,
            "steps": req.steps,
            "guidance": req.guidance,
            "mode": "image-to-image" if req.init_image is not None else "text-to-image",
        }
        files = []
        for i, (image, seed) in enumerate(zip(shown, req.seeds, strict=True)):
            record = provenance_record(
                job, self.preset.model, seed, **parameters, index=i + 1, safety_flagged=i in check.flagged
            )
            files.append(
                OutputFile(f"{job.id[:8]}-{i + 1}.png", "image/png", "image", stamp_png(image, record))
            )
        if req.count > 1:
            grid = make_grid(shown)
            record = provenance_record(
                job, self.preset.model, req.seeds[0], **parameters, seeds=list(req.seeds)
            )
            files.insert(
                0, OutputFile(f"{job.id[:8]}-grid.png", "image/png", "grid", stamp_png(grid, record))
            )
        metadata = provenance_record(
            job,
            self.preset.model,
            req.seeds[0],
            **parameters,
            seeds=list(req.seeds),
            safety=check.as_metadata(),
            watermark=watermark_status(images[0], job.id),
            timings={
                "generate_s": round(generate_s, 3),
                "postprocess_s": round(time.perf_counter() - started, 3),
                "batch_size": batch_size,
            },
        )
        return GenerationOutput(files=files, metadata=metadata)


class _StepReporter:
    """`callback_on_step_end`: progress to every job of the call; cancel when all of them cancelled."""

    def __init__(self, ctxs: list[GenerationContext], steps: int) -> None:
        self.ctxs = ctxs
        self.steps = steps

    def __call__(self, pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        total = int(getattr(pipe, "_num_timesteps", None) or self.steps)
        done = min(step + 1, total)
        for ctx in self.ctxs:
            ctx.progress(done / total, f"step {done}/{total}", step=done, total=total)
        if all(ctx.is_cancelled() for ctx in self.ctxs):
            pipe._interrupt = True
            raise JobCancelled("cancelled during denoising")
        return tensors
