"""The compact token scheme: one token per note (pitch × duration), bar lines, voices and controls.

A piece is `BOS STYLE MODE METER` then bars. A bar is `BAR` followed, for each voice, by an optional
`VOICE_n` (only in four-voice pieces) and notes/rests whose durations sum to the meter's bar length.
Times are in grid steps of 1/12 quarter note (so both sixteenths and triplets are exact). Pitches are
stored transposed so the tonic is C; the key becomes an exact shift at render time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

STEPS_PER_QUARTER = 12
STYLES = ("reel", "jig", "slip jig", "hornpipe", "strathspey", "waltz", "air", "chorale", "folk song")
TRAINING_ONLY_STYLES = ("tune",)  # unlabelled dance-collection tunes (marches, airs without a label)
MODES = ("major", "minor", "dorian", "mixolydian")
METERS = ("2/4", "3/4", "4/4", "6/8", "9/8", "12/8", "3/8", "2/2", "3/2", "6/4", "5/4")
DURATIONS = (1, 2, 3, 4, 6, 8, 9, 12, 18, 24, 36, 48, 72)
PITCH_MIN, PITCH_MAX = 33, 96
MAX_VOICES = 4
SPECIALS = ("PAD", "BOS", "EOS", "BAR")


def bar_steps(meter: str) -> int:
    """Length of one bar of `meter` in grid steps."""
    numerator, denominator = (int(part) for part in meter.split("/"))
    return numerator * 4 * STEPS_PER_QUARTER // denominator


@dataclass(frozen=True)
class Note:
    """One event of a voice: `pitch` None is a rest; times in grid steps from the piece start."""

    start: int
    duration: int
    pitch: int | None


@dataclass
class Piece:
    """A tune in the model's frame (tonic C): controls plus one note list per voice, bar-aligned."""

    style: str
    mode: str
    meter: str
    voices: list[list[Note]]
    title: str = ""
    collection: str = ""
    tonic: int = 0  # pitch class of the original key, for reference only
    meta: dict[str, str] = field(default_factory=dict)


class Vocab:
    """Maps tokens to ids and back, and knows each id's role (note, rest, control)."""

    def __init__(self) -> None:
        tokens: list[str] = list(SPECIALS)
        tokens += [f"STYLE_{s}" for s in STYLES + TRAINING_ONLY_STYLES]
        tokens += [f"MODE_{m}" for m in MODES]
        tokens += [f"METER_{m}" for m in METERS]
        tokens += [f"VOICE_{v}" for v in range(1, MAX_VOICES + 1)]
        tokens += [f"REST_{d}" for d in DURATIONS]
        tokens += [f"NOTE_{p}_{d}" for p in range(PITCH_MIN, PITCH_MAX + 1) for d in DURATIONS]
        self.tokens = tokens
        self.index = {token: i for i, token in enumerate(tokens)}
        self.pad, self.bos, self.eos, self.bar = (self.index[s] for s in SPECIALS)
        self.voice_ids = [self.index[f"VOICE_{v}"] for v in range(1, MAX_VOICES + 1)]
        # per id: duration in steps (0 for non-events) and pitch (-1 rest, -2 non-event)
        self.duration = [0] * len(tokens)
        self.pitch = [-2] * len(tokens)
        for i, token in enumerate(tokens):
            if token.startswith("REST_"):
                self.duration[i] = int(token.split("_")[1])
                self.pitch[i] = -1
            elif token.startswith("NOTE_"):
                _, p, d = token.split("_")
                self.duration[i], self.pitch[i] = int(d), int(p)

    def __len__(self) -> int:
        return len(self.tokens)

    def style_id(self, style: str) -> int:
        return self.index[f"STYLE_{style}"]

    def mode_id(self, mode: str) -> int:
        return self.index[f"MODE_{mode}"]

    def meter_id(self, meter: str) -> int:
        return self.index[f"METER_{meter}"]

    def event_id(self, pitch: int | None, duration: int) -> int:
        return self.index[f"REST_{duration}" if pitch is None else f"NOTE_{pitch}_{duration}"]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"tokens": self.tokens, "steps_per_quarter": STEPS_PER_QUARTER}, indent=0))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        """Load and check that the saved vocabulary is the one this code builds."""
        vocab = cls()
        saved = json.loads(path.read_text())["tokens"]
        if saved != vocab.tokens:
            raise ValueError(f"vocabulary at {path} does not match this version of the code")
        return vocab


def split_duration(duration: int) -> list[int]:
    """Write a duration as a sum of allowed durations, largest first."""
    parts: list[int] = []
    for d in sorted(DURATIONS, reverse=True):
        while duration >= d:
            parts.append(d)
            duration -= d
    return parts
