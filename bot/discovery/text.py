"""The text an item is embedded from: the same words for a live result and a replayed log."""

from __future__ import annotations

from collections.abc import Sequence

MAX_TEXT = 1000


def item_text(modality: str, prompt: str, tags: Sequence[str] = ()) -> str:
    """`modality: prompt (tags)`, clipped: what the content encoder reads."""
    text = f"{modality}: {prompt.strip()}" if prompt.strip() else modality
    extra = [t for t in tags if t and t.lower() not in text.lower()]
    if extra:
        text += " (" + ", ".join(extra) + ")"
    return text[:MAX_TEXT]
