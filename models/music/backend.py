"""MusicBackend: a MusicJob in, tune.ogg + tune.mid + piano-roll.png out (see `models.base`)."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any, ClassVar

import torch

from config.settings import MusicPreset, Settings
from models.base import AnyJob, Backend, GenerationContext, GenerationError, GenerationOutput, OutputFile
from models.music.artifacts import render_all
from models.music.compose import STYLE_METERS, MusicModel, Request
from models.music.midi_in import read_prime
from provenance import provenance_record
from wire.contract import ErrorCode, MusicJob

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_folder(model: str) -> Path:
    """The weights folder: as given if it exists, else relative to the repository root."""
    path = Path(model)
    return path if path.is_absolute() or path.exists() else REPO_ROOT / path


class MusicBackend(Backend):
    """Atelier's own symbolic music model."""

    modality: ClassVar[str] = "music"

    def __init__(self, name: str, folder: Path, threads: int | None = None) -> None:
        if not (folder / "model.safetensors").exists():
            raise GenerationError(ErrorCode.NOT_AVAILABLE, "The music model's weights are not installed.")
        self.threads = threads or 1
        self.name = name
        self.model = MusicModel(folder)

    @classmethod
    def from_preset(cls, name: str, preset: MusicPreset, settings: Settings) -> MusicBackend:
        if preset.device != "cpu":
            log.info("music model runs on CPU; device %s ignored", preset.device)
        return cls(name, resolve_folder(preset.model), preset.threads)

    def describe(self) -> dict[str, Any]:
        training = self.model.training
        return {
            **super().describe(),
            "preset": self.name,
            "parameters": training.get("parameters"),
            "folder": str(self.model.folder),
        }

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        if not isinstance(job, MusicJob):
            raise GenerationError(ErrorCode.INVALID_INPUT, "The music model only takes music jobs.")
        options = job.options
        seed = options.seed if options.seed is not None else secrets.randbelow(2**32)
        request = Request(
            options.style,
            options.key,
            options.mode,
            options.tempo,
            options.bars,
            options.instrument,
            options.accompaniment,
            seed,
            options.temperature,
            options.top_p,
            options.form,
        )
        ctx.check_cancelled()
        prime = None
        if options.prime_artifact:
            ctx.progress(0.02, "reading your MIDI")
            prime = read_prime(
                ctx.load_input(options.prime_artifact), default_meter=STYLE_METERS[options.style]
            )

        def on_bar(done: int, total: int) -> None:
            ctx.check_cancelled()
            ctx.progress(
                0.05 + 0.75 * done / total, f"composing bar {done + 1} of {total}", step=done, total=total
            )

        ctx.progress(0.05, "composing")
        started = time.perf_counter()
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)  # a tiny model decodes fastest on one thread
        try:
            composition = self.model.compose(request, prime, on_bar)
        finally:
            torch.set_num_threads(previous_threads)
        ctx.check_cancelled()
        ctx.progress(0.85, "rendering audio")
        title = f"{options.style.title()} in {composition.key_name}"
        if prime is not None:
            title += f" (continued after {composition.prime_bars} bars)"
        record = provenance_record(
            job,
            model=f"atelier-music/{self.name}",
            seed=seed,
            figures={
                "tokens": composition.sampled.new_tokens,
                "tokens_per_second": round(composition.sampled.tokens_per_second, 1),
                "bars": options.bars,
                "prime_bars": composition.prime_bars,
                "upbeat_steps": composition.upbeat,
                "parts": [label for _, label in composition.parts_marked],
                "decode_seconds": round(composition.sampled.seconds, 3),
            },
            key=composition.key_name,
            meter=composition.meter,
            tempo_qpm=composition.quarter_bpm,
        )
        rendered = render_all(composition, title, record)
        record["figures"]["total_seconds"] = round(time.perf_counter() - started, 3)
        record["figures"]["audio_seconds"] = round(rendered.seconds, 2)
        record["renderer"] = rendered.engine
        ctx.progress(1.0, "done")
        return GenerationOutput(
            files=[
                OutputFile("tune.ogg", "audio/ogg", "audio", rendered.ogg),
                OutputFile("tune.mid", "audio/midi", "midi", rendered.midi),
                OutputFile("piano-roll.png", "image/png", "piano_roll", rendered.png),
            ],
            metadata=record,
        )
