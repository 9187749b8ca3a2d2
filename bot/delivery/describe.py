"""Short human descriptions of a job: its parameters, its status, and why it did not succeed."""

from __future__ import annotations

from bot.db.jobs import JobRecord
from bot.i18n import t
from wire.contract import ErrorCode, ImageJob, JobResult, MusicJob, TextJob

TITLES = {"music": "🎵 /compose", "image": "🎨 /imagine", "text": "✍️ /write"}
COLOURS = {"music": 0x5865F2, "image": 0xEB459E, "text": 0x57F287}
FAILED_COLOUR = 0xED4245


def describe_job(job: MusicJob | ImageJob | TextJob, seed: object = None) -> str:
    """One line of the options that matter, e.g. `jig · D dorian · 120 bpm · 16 bars`."""
    parts: list[str]
    if isinstance(job, MusicJob):
        o = job.options
        parts = [
            o.style,
            f"{o.key} {o.mode}",
            f"{o.tempo} bpm",
            f"{o.bars} bars",
            f"instrument {o.instrument}",
        ]
        if o.form != "auto":
            parts.append(f"form {o.form}")
        if o.accompaniment != "none":
            parts.append(f"+ {o.accompaniment}")
        if o.prime_artifact:
            parts.append("continuing your MIDI")
        chosen = o.seed
    elif isinstance(job, ImageJob):
        i = job.options
        parts = [f"{i.width}×{i.height}"]
        if i.steps is not None:
            parts.append(f"{i.steps} steps")
        if i.count > 1:
            parts.append(f"{i.count} images")
        if i.negative_prompt:
            parts.append(f"without: {_clip(i.negative_prompt, 60)}")
        if i.init_artifact:
            parts.append("from your image")
        chosen = i.seed
    else:
        w = job.options
        parts = [w.kind.replace("_", " "), f"up to {w.max_new_tokens} tokens"]
        chosen = w.seed
    shown = seed if seed is not None else chosen
    if shown is not None:
        parts.append(f"seed {shown}")
    if job.preset:
        parts.append(f"preset {job.preset}")
    return " · ".join(parts)


def prompt_of(job: MusicJob | ImageJob | TextJob) -> str | None:
    """The member's prompt, if the job has one."""
    if isinstance(job, ImageJob | TextJob):
        return job.options.prompt
    return None


def failure_sentence(result: JobResult | None, code: ErrorCode | None, locale: str) -> str:
    """A friendly sentence for a failed or cancelled job."""
    code = code or (result.error_code if result else None) or ErrorCode.INTERNAL
    detail = _clip((result.error if result else None) or "", 300)
    if code in (ErrorCode.INVALID_INPUT, ErrorCode.NOT_AVAILABLE):
        return t(f"error.{code.value}", locale, detail=detail).strip()
    return t(f"error.{code.value}", locale)


def status_label(record: JobRecord, locale: str) -> str:
    """The job's state in a word, with how it ended once delivered."""
    status = record.outcome if record.status.value == "delivered" and record.outcome else record.status
    return t(f"status.{status.value}", locale)


def progress_bar(fraction: float, width: int = 12) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "▰" * filled + "▱" * (width - filled)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return _clip(text, limit)
