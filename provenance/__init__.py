"""Provenance: every artifact says what made it, for whom, and that it is AI-generated.

A top-level package because both sides use it: workers stamp artifacts, the bot verifies files
members upload (`/verify`). It needs image and MIDI libraries only, never torch or Discord.
"""

from __future__ import annotations

from typing import Any

from wire.contract import ImageJob, MusicJob, TextJob

LABEL = "AI-generated with Atelier"
SOFTWARE = "Atelier"


def provenance_record(
    job: MusicJob | ImageJob | TextJob, model: str, seed: int | None, **extra: Any
) -> dict[str, Any]:
    """The facts stamped into every artifact of a job (JSON-able)."""
    return {
        "label": LABEL,
        "software": SOFTWARE,
        "job_id": job.id,
        "modality": job.modality,
        "model": model,
        "seed": seed,
        "parameters": job.options.model_dump(mode="json"),
        "parent_id": job.parent_id,
        "created_at": job.created_at.isoformat(),
        **extra,
    }
