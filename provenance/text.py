"""The provenance footer under generated text, and its parser.

The footer is one line, after a blank line, written as Discord "subtext" so it renders small:

    -# AI-generated with Atelier · job 3f2a…(32 hex) · model HuggingFaceTB/SmolLM2-135M · seed 42

The parser accepts it with or without the `-# ` prefix and with any surrounding whitespace, so a
member who copies the text out of Discord (which drops the prefix) still carries a readable footer.
"""

from __future__ import annotations

import re
from typing import Any

from provenance import LABEL

SEPARATOR = " · "
_FOOTER = re.compile(
    r"^(?:-#\s+)?"
    + re.escape(LABEL)
    + r" · job (?P<job_id>[0-9a-f]{32}) · model (?P<model>.+?) · seed (?P<seed>\d+|none)\s*$"
)


def footer(record: dict[str, Any]) -> str:
    """The footer line for a provenance record."""
    seed = record.get("seed")
    model = " ".join(str(record.get("model", "unknown")).split()) or "unknown"
    return f"-# {LABEL}{SEPARATOR}job {record['job_id']}{SEPARATOR}model {model}{SEPARATOR}seed " + (
        "none" if seed is None else str(int(seed))
    )


def add_footer(text: str, record: dict[str, Any]) -> str:
    """The text with its footer appended (an existing footer is replaced)."""
    return strip_footer(text).rstrip() + "\n\n" + footer(record)


def _split(text: str) -> tuple[str, re.Match[str] | None]:
    body, _, last = text.rstrip().rpartition("\n")
    match = _FOOTER.match(last.strip())
    return (body, match) if match else (text, None)


def parse_footer(text: str) -> dict[str, Any] | None:
    """job_id, model, seed and label from the last line of a text, or None when it has no footer."""
    _, match = _split(text)
    if match is None:
        return None
    seed = match["seed"]
    return {
        "label": LABEL,
        "job_id": match["job_id"],
        "model": match["model"],
        "seed": None if seed == "none" else int(seed),
    }


def strip_footer(text: str) -> str:
    """The text without its footer."""
    body, match = _split(text)
    return body.rstrip() if match else text
