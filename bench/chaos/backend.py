"""The chaos preset: a text "model" that takes a set time, reports progress and answers at once after.

It makes jobs that are provably in flight for as long as the harness wants (`CHAOS_JOB_S`, seconds)
without loading a model, so faults land on running jobs. Any other text preset is served by the real
backend (the signature is `TransformersTextBackend.from_preset`'s).
"""

from __future__ import annotations

import os
import time
from typing import Any

from config.settings import Settings, TextPreset
from models.base import Backend, GenerationContext, GenerationError, GenerationOutput, OutputFile
from provenance import provenance_record
from provenance.text import add_footer
from wire.contract import AnyJob, ErrorCode, TextJob

CHAOS_PRESET = "chaos"
STEPS = 4


def answer(prompt: str) -> str:
    """What the chaos model writes for `prompt` (the harness checks deliveries against it)."""
    return f"Chaos reply: {prompt}"


class ChaosTextBackend(Backend):
    modality = "text"

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds

    @classmethod
    def from_preset(
        cls, name: str, preset: TextPreset, settings: Settings, *, quantize: str | None = None
    ) -> Backend:
        if name != CHAOS_PRESET:
            from models.text.backend import TransformersTextBackend

            return TransformersTextBackend.from_preset(name, preset, settings, quantize=quantize)
        return cls(name, float(os.environ.get("CHAOS_JOB_S", "1.0")))

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        if not isinstance(job, TextJob):
            raise GenerationError(
                ErrorCode.INVALID_INPUT, f"the text backend cannot run a {job.modality} job"
            )
        for step in range(1, STEPS + 1):
            ctx.check_cancelled()
            time.sleep(self.seconds / STEPS)
            ctx.progress(step / STEPS, "Writing…", step=step, total=STEPS)
        text = answer(job.options.prompt)
        metadata = provenance_record(job, model="chaos", seed=job.options.seed, preset=self.name, tokens=3)
        data = (add_footer(text, metadata) + "\n").encode()
        return GenerationOutput(
            text=text,
            files=[OutputFile(f"{job.options.kind}.txt", "text/plain; charset=utf-8", "text", data)],
            metadata=metadata,
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "preset": self.name, "model": "chaos"}
