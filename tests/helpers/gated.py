"""A text backend that holds each job at a gate the test opens, so a test can act on a job that is
provably running (cancel it, kill its worker) without racing the model.

The worker entry `tests.helpers.gated_worker` puts `GatedTextBackend` in place of the transformers
text backend. Only the preset named `GATED_PRESET` is gated; every other text preset is served by
the real backend, so one worker can serve real and gated jobs side by side.

For each job it runs, the gated backend
1. reports progress, then increments `entered_key(job_id)` (once per attempt: a retry after a killed
   worker makes it 2);
2. waits, checking `ctx.check_cancelled()` every `POLL_S`, until `gate_key(job_id)` exists;
3. returns a short text with its .txt file.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from config.settings import Settings, TextPreset
from models.base import Backend, GenerationContext, GenerationError, GenerationOutput, OutputFile
from provenance import provenance_record
from provenance.text import add_footer
from wire.contract import AnyJob, ErrorCode, TextJob

GATED_PRESET = "gated"
WORKER_APP = "tests.helpers.gated_worker"
POLL_S = 0.05
GIVE_UP_S = 240.0  # a gate nobody opens fails the job instead of holding the worker for ever


def gate_key(job_id: str) -> str:
    """Set this key (any value) to let the job finish."""
    return f"test:gate:{job_id}"


def entered_key(job_id: str) -> str:
    """How many times a worker has started the job and is now (or was) waiting at the gate."""
    return f"test:gate:{job_id}:entered"


def gated_preset_env(model: str) -> dict[str, str]:
    """Environment that gives a worker subprocess the gated preset (`model` need only be a string)."""
    return {f"ATELIER_TEXT_PRESETS__{GATED_PRESET.upper()}__MODEL": model}


class GatedTextBackend(Backend):
    """Serves `GATED_PRESET` from a gate instead of a model; see the module's docstring."""

    modality = "text"

    def __init__(self, name: str, redis_url: str) -> None:
        self.name = name
        self.redis = redis.Redis.from_url(redis_url)

    @classmethod
    def from_preset(
        cls, name: str, preset: TextPreset, settings: Settings, *, quantize: str | None = None
    ) -> Backend:
        """The gated backend for `GATED_PRESET`; the real transformers backend for any other preset
        (the signature is `TransformersTextBackend.from_preset`'s)."""
        if name != GATED_PRESET:
            from models.text.backend import TransformersTextBackend

            return TransformersTextBackend.from_preset(name, preset, settings, quantize=quantize)
        return cls(name, settings.redis_url)

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        if not isinstance(job, TextJob):
            raise GenerationError(
                ErrorCode.INVALID_INPUT, f"the text backend cannot run a {job.modality} job"
            )
        ctx.check_cancelled()
        ctx.progress(0.1, "Waiting at the test's gate…", step=1, total=2)
        self.redis.incr(entered_key(job.id))
        deadline = time.monotonic() + GIVE_UP_S
        while not self.redis.exists(gate_key(job.id)):
            ctx.check_cancelled()
            if time.monotonic() > deadline:
                raise GenerationError(ErrorCode.INTERNAL, f"the test never opened the gate of job {job.id}")
            time.sleep(POLL_S)
        ctx.progress(1.0, "Through the gate", step=2, total=2)
        text = f"Past the gate: {job.options.prompt}"
        metadata = provenance_record(job, model="gated", seed=job.options.seed, preset=self.name, tokens=5)
        data = (add_footer(text, metadata) + "\n").encode()
        return GenerationOutput(
            text=text,
            files=[OutputFile(f"{job.options.kind}.txt", "text/plain; charset=utf-8", "text", data)],
            metadata=metadata,
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "preset": self.name, "model": "gated"}
