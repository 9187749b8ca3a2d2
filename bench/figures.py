"""The JSON a bench's `--json PATH` writes for the performance report (`bench.report`).

One file per run: the bench's name, the exact command, when it finished, how long it ran, and its
rows. A row is one printed figure with its baseline measured in the same run and the ratio, or with
its goal and whether it was met.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import psutil

SCHEMA = 1


class Row(TypedDict, total=False):
    figure: str
    value: float
    unit: str
    baseline: float
    baseline_label: str
    ratio: float
    goal: str
    met: bool


def row(
    figure: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_label: str = "",
    goal: str = "",
    met: bool | None = None,
) -> Row:
    """One figure; the ratio is value ÷ baseline when there is a (non-zero) baseline."""
    out: Row = {"figure": figure, "value": float(value), "unit": unit}
    if baseline is not None:
        out["baseline"] = float(baseline)
        out["baseline_label"] = baseline_label
        if baseline:
            out["ratio"] = float(value) / float(baseline)
    if goal:
        out["goal"] = goal
    if met is not None:
        out["met"] = bool(met)
    return out


def command() -> str:
    """How this process was started, as `python -m bench.<name> <args>`."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    program = f"python -m {spec.name}" if spec is not None else f"python {sys.argv[0]}"
    return " ".join([program, *(shlex.quote(arg) for arg in sys.argv[1:])])


def provenance() -> dict[str, Any]:
    """The command, when it finished and how long it ran (counted from this process's start)."""
    started = psutil.Process().create_time()
    return {
        "command": command(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
    }


def envelope(
    bench: str, title: str, rows: list[Row], figures: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The report's record of this run."""
    meta = {"schema": SCHEMA, "bench": bench, "title": title, **provenance()}
    return {**meta, "rows": list(rows), "figures": figures or {}}


def write(path: Path, bench: str, title: str, rows: list[Row], figures: dict[str, Any] | None = None) -> None:
    """Write the run's envelope to `path` (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(envelope(bench, title, rows, figures), indent=2) + "\n", encoding="utf-8")
