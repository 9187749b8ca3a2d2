"""The evaluation table: how cells are judged and shown."""

from __future__ import annotations

import math

from models.music.evaluate import _cell, _overlap_text


def _metric(overlap: float, generated: float = 0.026, real: float = 0.019, sd: float = 0.008) -> dict:
    within = abs(generated - real) <= sd
    return {
        "generated": [generated, 0.017],
        "real": [real, sd],
        "within_1sd": within,
        "overlap": overlap,
        "goal_met": within and overlap >= 0.7,
    }


def test_overlap_is_cut_not_rounded() -> None:
    assert _overlap_text(0.69993) == "0.69"
    assert _overlap_text(0.7) == "0.70"
    assert _overlap_text(math.nan) == "nan"


def test_a_cell_just_under_the_goal_never_reads_as_met() -> None:
    cell = _cell(_metric(0.69993), judged=True)
    assert cell.endswith("OA 0.69 ✗ OA")
    assert _cell(_metric(0.71), judged=True).endswith("OA 0.71 ✓")
    assert _cell(_metric(0.9, generated=0.05), judged=True).endswith("✗ mean")
    assert _cell(_metric(math.nan), judged=False).endswith("OA nan (n/a)")
