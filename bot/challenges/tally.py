"""Counting a challenge: points per entry, then places, in one pass over the votes or scores.

Ties share a place ("standard competition ranking": 1, 2, 2, 4). A shared place is what members
expect when two entries got the same support, and any tie-break (the earlier entry, a coin) would
reward something that is not the work; the next place is skipped, so a shared first place is not
followed by a second. Withdrawn and removed entries are left out; a removed entry's votes do not
move to anything else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.challenges.model import Criterion, VotingMode

RANKED_POINTS = {1: 3, 2: 2, 3: 1}


@dataclass(frozen=True)
class Standing:
    place: int
    entry_id: int
    member_id: int
    points: float
    votes: int


def judged_points(
    scores: Iterable[tuple[int, int, str, float]], criteria: tuple[Criterion, ...]
) -> dict[int, float]:
    """(entry, judge, criterion, value) → each entry's mean over judges of the sum of its criteria,
    each criterion scaled to 0..1 of its range (so a 1–5 and a 0–100 criterion weigh alike)."""
    ranges = {c.name: (c.low, c.high) for c in criteria}
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for entry_id, judge_id, criterion, value in scores:
        low, high = ranges.get(criterion, (0.0, 1.0))
        totals[(entry_id, judge_id)] += (value - low) / (high - low)
    per_entry: dict[int, list[float]] = defaultdict(list)
    for (entry_id, _), total in totals.items():
        per_entry[entry_id].append(total)
    return {entry_id: sum(values) / len(values) for entry_id, values in per_entry.items()}


def standings(
    entries: Iterable[tuple[int, int]], points: dict[int, float], counts: dict[int, int] | None = None
) -> list[Standing]:
    """(entry, member) of the entries in the running → their places, best first (ties share)."""
    rows = sorted(entries, key=lambda e: (-points.get(e[0], 0.0), e[0]))
    result: list[Standing] = []
    previous: float | None = None
    place = 0
    for index, (entry_id, member_id) in enumerate(rows, start=1):
        value = round(points.get(entry_id, 0.0), 9)
        if value != previous:
            place, previous = index, value
        result.append(Standing(place, entry_id, member_id, value, (counts or {}).get(entry_id, 0)))
    return result


def mode_points(mode: VotingMode) -> str:
    return {"community": "votes", "ranked": "points", "judges": "score"}[mode.value]


def places(ranked: Iterable[tuple[int, int, float, int]]) -> list[Standing]:
    """(entry, member, points, votes), best first → standings (ties share a place)."""
    result: list[Standing] = []
    previous: float | None = None
    place = 0
    for index, (entry_id, member_id, points, votes) in enumerate(ranked, start=1):
        if points != previous:
            place, previous = index, points
        result.append(Standing(place, entry_id, member_id, points, votes))
    return result
