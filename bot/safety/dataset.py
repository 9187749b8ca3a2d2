"""The labelled prompt set (``tests/data/safety/*.jsonl``): one JSON object a line.

Fields: ``text``; ``label`` (``safe``/``unsafe`` at the standard level); ``category`` (for a benign
prompt, the category it is close to, or ``general``); ``unsafe_at`` (the levels at which it must be
blocked); ``language`` (``en``/``zh``); ``obfuscated``; ``split`` (``train``/``test``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.safety.levels import Level

DEFAULT_DIR = Path("tests/data/safety")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt."""

    text: str
    label: str
    category: str
    unsafe_at: frozenset[Level]
    language: str
    obfuscated: bool
    split: str

    def unsafe(self, level: Level) -> bool:
        return level in self.unsafe_at


def load(directory: Path = DEFAULT_DIR, *, split: str | None = None) -> list[Example]:
    """Every example in ``directory``'s ``*.jsonl`` files (only ``split`` when given)."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.jsonl")):
        examples += parse(path.read_text(encoding="utf-8").splitlines())
    return [e for e in examples if split is None or e.split == split]


def parse(lines: Iterable[str]) -> list[Example]:
    out = []
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        out.append(
            Example(
                text=row["text"],
                label=row["label"],
                category=row["category"],
                unsafe_at=frozenset(Level(v) for v in row["unsafe_at"]),
                language=row["language"],
                obfuscated=bool(row["obfuscated"]),
                split=row["split"],
            )
        )
    return out
