"""Tune form: the parts of a tune, which bars restate which, where the parts cadence (issue 22).

A plan is laid out in a musician's bars: `bars` counts the full bars after the upbeat, repeats written
out (a reel played once through, AABB with 8-bar parts, is 32 bars). Bar 0 of the plan is the first
full bar; a pickup, when the tune has one, is an extra bar before it in the token frame.

- `AABB`: part A (`a` bars) played twice, part B (`b` bars) played twice; B's last `echo` bars (a
  quarter of the part) restate A's last ones: B ends with A's cadence. An odd bar left over closes.
- `AB`: A then B once each, B ending with A's last `echo` bars (half the part; airs a quarter).
- `none`: no imposed form (the model's own; continuations of an uploaded MIDI file always).

The tables below come from the training split (`python -m models.music.calibrate` recomputes them):
`OPENING_RESTS`, the leading rests (steps of silence before the first note: a pickup's rest) that at
least 2% of a style's training pieces in a meter open with (every one seen, in meters with fewer than 50
pieces); `FINAL_PITCH_CLASSES`, the pitch classes the melodies of a style's training pieces end on, per mode
(modes with at least 20 pieces, else `all`): those that at least 3% end on, with their shares; the
decoder draws a tune's last note among them in proportion.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.music.vocab import bar_steps

FORMS = ("auto", "AABB", "AB", "none")

# The form `auto` gives each style: the dance tunes in two repeated parts; airs in two parts once each
# (their held-out pieces restate less than the dances: see the model card); chorales and folk songs free.
STYLE_FORMS = {
    "reel": "AABB",
    "jig": "AABB",
    "slip jig": "AABB",
    "hornpipe": "AABB",
    "strathspey": "AABB",
    "waltz": "AABB",
    "air": "AB",
    "chorale": "none",
    "folk song": "none",
}

OPENING_RESTS: dict[str, dict[str, tuple[int, ...]]] = {
    "reel": {"2/4": (0, 18, 21), "4/4": (0, 36, 42)},
    "jig": {
        "12/8": (0, 54, 66),
        "2/4": (0, 12, 18, 20, 21),
        "4/4": (0, 36),
        "6/8": (0, 30),
        "9/8": (0, 3, 48),
    },
    "slip jig": {"9/8": (0, 48)},
    "hornpipe": {"2/4": (0, 18), "4/4": (0, 36, 39), "6/4": (0,)},
    "strathspey": {"2/4": (0, 2, 18), "4/4": (0, 3, 36, 42)},
    "waltz": {"3/4": (0, 12, 18, 24), "3/8": (0, 12)},
    "air": {
        "2/4": (0, 12, 15, 18, 21),
        "3/2": (0,),
        "3/4": (0, 18, 24, 30),
        "3/8": (0, 12),
        "4/4": (0, 24, 30, 36, 42),
        "5/4": (0, 42),
        "6/4": (0, 60),
        "6/8": (0, 28, 30),
        "9/8": (0,),
    },
    "chorale": {"3/4": (0, 24), "4/4": (0, 36)},
    "folk song": {
        "2/4": (0, 12, 18),
        "3/2": (0, 36, 48, 60),
        "3/4": (0, 18, 24, 30),
        "3/8": (0, 12),
        "4/4": (0, 12, 24, 30, 36, 42),
        "5/4": (0, 24),
        "6/4": (0, 24, 36, 48, 60),
        "6/8": (0, 12, 30),
        "9/8": (0, 30, 48),
    },
}

FINAL_PITCH_CLASSES: dict[str, dict[str, dict[int, float]]] = {
    "reel": {
        "all": {0: 0.688, 2: 0.085, 9: 0.06, 5: 0.047, 4: 0.04, 11: 0.034, 7: 0.034},
        "dorian": {0: 0.6, 5: 0.15, 3: 0.1, 9: 0.1, 2: 0.05},
        "major": {0: 0.692, 2: 0.083, 9: 0.065, 4: 0.042, 5: 0.041, 11: 0.038, 7: 0.036},
        "minor": {0: 0.667, 2: 0.13, 5: 0.093, 10: 0.056},
    },
    "jig": {
        "all": {0: 0.817, 7: 0.05, 2: 0.048},
        "dorian": {0: 0.833, 10: 0.083, 5: 0.042, 3: 0.042},
        "major": {0: 0.808, 7: 0.059, 2: 0.05, 9: 0.035},
        "minor": {0: 0.883, 10: 0.043, 2: 0.031},
        "mixolydian": {0: 0.75, 2: 0.091, 3: 0.045, 10: 0.045, 5: 0.045},
    },
    "slip jig": {
        "all": {0: 0.487, 7: 0.15, 2: 0.15, 5: 0.088, 9: 0.08},
        "major": {0: 0.417, 7: 0.167, 2: 0.167, 5: 0.104, 9: 0.094},
    },
    "hornpipe": {"all": {0: 0.893, 7: 0.044}, "major": {0: 0.896, 7: 0.044}},
    "strathspey": {
        "all": {0: 0.75, 2: 0.06, 9: 0.05, 5: 0.04, 4: 0.04},
        "major": {0: 0.8, 2: 0.062, 9: 0.062, 4: 0.05},
    },
    "waltz": {"all": {0: 0.938}},
    "air": {"all": {0: 0.937}, "major": {0: 0.934}, "minor": {0: 0.96}},
    "chorale": {
        "all": {0: 0.84, 7: 0.083},
        "major": {0: 0.883, 9: 0.037, 7: 0.031},
        "minor": {0: 0.795, 7: 0.137},
    },
    "folk song": {
        "all": {0: 0.721, 4: 0.124, 7: 0.091, 9: 0.034},
        "major": {0: 0.721, 4: 0.124, 7: 0.091, 9: 0.035},
    },
}


def opening_rests(style: str, meter: str) -> tuple[int, ...]:
    """The leading rests a piece of `style` in `meter` may open with (0 only when the data has none)."""
    return OPENING_RESTS.get(style, {}).get(meter, (0,))


def final_pitch_classes(style: str, mode: str) -> dict[int, float]:
    """The pitch classes (tonic 0) a style's melodies end on in `mode`, with their shares."""
    table = FINAL_PITCH_CLASSES.get(style, {})
    return table.get(mode, table.get("all", {0: 1.0}))


# How much of A's end B ends with, per form (and style, where it differs): a quarter of the part when
# both parts are played twice, half when they are played once, as the corpus's 16-bar dance tunes do (their
# longest restated run is about a fifth of the tune); airs restate less (held-out 0.14), a quarter.
ECHO_SHARES: dict[str, dict[str, float]] = {"": {"AABB": 0.25, "AB": 0.5}, "air": {"AB": 0.25}}

# `auto` plays a dance tune's parts twice (AABB) only when each part gets at least this many bars of
# 4/4 or longer (twice as many bars of 2/4 or 3/8, which hold half as much: a 2/4 hornpipe's part is 16
# bars); a shorter tune is its two parts once each (AB), as the corpus writes its 16-bar reels and jigs.
# Counting 2/4 bars as 4/4 ones left a 32-bar 2/4 hornpipe with 7 bars' worth of its own music (its
# pitch-class entropy 2.64 against the real ones' 2.80, validation split; see the model card).
MIN_REPEATED_PART = 8
FULL_BAR_STEPS = 36  # a bar of 3/4 or 6/8; shorter bars (2/4: 24 steps, 3/8: 18) count half


def resolve(form: str, style: str, bars: int, meter: str = "4/4") -> str:
    """The form a request gets: `auto` is the style's (see MIN_REPEATED_PART)."""
    if form != "auto":
        return form
    chosen = STYLE_FORMS.get(style, "none")
    per_part = MIN_REPEATED_PART * (2 if bar_steps(meter) < FULL_BAR_STEPS else 1)
    return "AB" if chosen == "AABB" and 2 * bars < 8 * per_part - 2 else chosen


@dataclass(frozen=True)
class PlanBar:
    """What one bar of the plan is: its own music, or a restatement of bar `source`.

    `cadence`: the bar closes a part (its last note is drawn as an ending). `part_end`: the bar ends a
    part, so with a pickup its last steps lead into what follows: `tail` says with what — "pickup" (the
    tune's opening upbeat), "free" (a new upbeat, the model's), "copy" (the tail of bar `tail_source`) or
    "rest" (the end of the tune).
    """

    source: int | None = None
    cadence: bool = False
    part_end: bool = False
    tail: str = "free"
    tail_source: int | None = None
    label: str = ""


def part_lengths(form: str, bars: int) -> tuple[int, int, int]:
    """(A bars, B bars, closing bars) of a form over `bars` bars."""
    if form == "AABB":
        a = bars // 4 + (1 if bars % 4 >= 2 else 0)
        b = (bars - 2 * a) // 2
        return a, b, bars - 2 * a - 2 * b
    a = (bars + 1) // 2
    return a, bars - a, 0


def echo_bars(a: int, b: int, share: float) -> int:
    """How many of A's last bars B ends with: `share` of the part (at least one, when both have 2)."""
    return min(a, b, max(1, round(a * share))) if min(a, b) >= 2 else 0


def plan(form: str, bars: int, style: str = "") -> list[PlanBar]:
    """The plan of `bars` bars of `style` in `form` ("AABB" or "AB"; see the module doc)."""
    a, b, extra = part_lengths(form, bars)
    echo = echo_bars(a, b, ECHO_SHARES.get(style, {}).get(form, ECHO_SHARES[""][form]))
    out: list[PlanBar] = []
    lead_in = "pickup" if form == "AABB" else "free"  # A's end leads into A again, or into B
    for m in range(a):  # A
        end = m == a - 1
        out.append(PlanBar(cadence=end, part_end=end, tail=lead_in, label="A"))
    if form == "AABB":
        for m in range(a):  # A again; its end leads into B with a new upbeat
            out.append(PlanBar(source=m, part_end=m == a - 1, tail="free", label="A"))
    b_start = len(out)
    last_b = b_start + b - 1
    for m in range(b):  # B, ending with A's last bars
        source = a - echo + m - (b - echo) if m >= b - echo else None
        end = b_start + m == last_b
        repeated = form == "AABB"
        tail = "copy" if repeated else ("rest" if not extra else "free")
        tail_source = b_start - 1 if repeated else None
        cadence = end and source is None  # too short to echo A: B draws its own ending
        out.append(PlanBar(source, cadence, end, tail if end else "free", tail_source if end else None, "B"))
    if form == "AABB":
        for m in range(b):  # B again, ending the tune unless a closing bar follows
            end = m == b - 1
            out.append(
                PlanBar(source=b_start + m, part_end=end, tail="rest" if not extra else "free", label="B")
            )
    for _ in range(extra):
        out.append(PlanBar(cadence=True, part_end=True, tail="rest", label="coda"))
    return out


def part_starts(bar_plan: list[PlanBar]) -> list[tuple[int, str]]:
    """(bar, label) where each part of a plan starts, for marking them (piano roll)."""
    starts: list[tuple[int, str]] = []
    for index, bar in enumerate(bar_plan):
        previous = bar_plan[index - 1] if index else None
        if previous is None or previous.part_end:
            starts.append((index, bar.label))
    return starts
