"""Symbolic music metrics after muspy's definitions, in numpy (times in ticks at 24 per quarter)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.music.vocab import STEPS_PER_QUARTER, Note, Piece, bar_steps

RESOLUTION = 24
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])

Notes = Sequence[tuple[int, int, int]]  # (start tick, end tick, pitch)


def piece_notes(piece: Piece) -> list[tuple[int, int, int]]:
    """Sounding notes of all voices as (start, end, pitch) ticks at 24 per quarter."""
    factor = RESOLUTION // STEPS_PER_QUARTER
    return [
        (n.start * factor, (n.start + n.duration) * factor, n.pitch)
        for voice in piece.voices
        for n in voice
        if n.pitch is not None
    ]


def pitch_class_entropy(notes: Notes) -> float:
    counts = np.bincount([p % 12 for _, _, p in notes], minlength=12).astype(float)
    if counts.sum() == 0:
        return math.nan
    probs = counts[counts > 0] / counts.sum()
    return float(-(probs * np.log2(probs)).sum())


def scale_consistency(notes: Notes) -> float:
    """Largest share of notes in one major or minor scale."""
    if not notes:
        return math.nan
    pcs = np.array([p % 12 for _, _, p in notes])
    best = 0.0
    for root in range(12):
        for scale in (MAJOR, MINOR):
            best = max(best, float(np.isin(pcs, (scale + root) % 12).mean()))
    return best


def pitch_range(notes: Notes) -> float:
    return float(max(p for _, _, p in notes) - min(p for _, _, p in notes)) if notes else math.nan


def groove_consistency(notes: Notes, measure_resolution: int) -> float:
    """1 − mean Hamming distance between consecutive bars' onset patterns (per position)."""
    if not notes:
        return math.nan
    length = max(end for _, end, _ in notes)
    n_measures = math.ceil(length / measure_resolution)
    if n_measures < 2:
        return math.nan
    patterns = np.zeros((n_measures, measure_resolution), dtype=bool)
    for start, _, _ in notes:
        measure, position = divmod(start, measure_resolution)
        patterns[measure, position] = True
    distance = np.count_nonzero(patterns[:-1] != patterns[1:])
    return float(1 - distance / (measure_resolution * (n_measures - 1)))


def empty_beat_rate(notes: Notes) -> float:
    """Share of beats (quarter notes) in which no note is sounding."""
    if not notes:
        return math.nan
    n_beats = math.ceil(max(end for _, end, _ in notes) / RESOLUTION)
    empty = np.ones(n_beats, dtype=bool)
    for start, end, _ in notes:
        empty[start // RESOLUTION : (end - 1) // RESOLUTION + 1] = False
    return float(empty.mean())


def polyphony(notes: Notes) -> float:
    """Mean number of pitches sounding at once, over the time steps where any pitch sounds."""
    if not notes:
        return math.nan
    length = max(end for _, end, _ in notes)
    roll = np.zeros((length, 128), dtype=bool)
    for start, end, pitch in notes:
        roll[start:end, pitch] = True
    on = roll.sum(axis=1)
    return float(on.sum() / np.count_nonzero(on)) if np.count_nonzero(on) else math.nan


def _last_pitch(voice: Sequence[Note]) -> int | None:
    """The pitch of a voice's last sounding note (None when it never sounds)."""
    return next((n.pitch for n in reversed(voice) if n.pitch is not None), None)


def _is_tonic(pitch: int | None) -> bool:
    return pitch is not None and pitch % 12 == 0


def ends_on_tonic(piece: Piece) -> bool:
    """Whether the first voice's last note is the tonic (C in the model's frame)."""
    return bool(piece.voices) and _is_tonic(_last_pitch(piece.voices[0]))


def outer_voices_end_on_tonic(voices: Sequence[Sequence[Note]]) -> bool:
    """Whether the top and the lowest voice both end on the tonic: the close of 84% of the training
    chorales (soprano and bass); it leaves the inner voices free."""
    return bool(voices) and _is_tonic(_last_pitch(voices[0])) and _is_tonic(_last_pitch(voices[-1]))


def all_metrics(piece: Piece) -> dict[str, float]:
    notes = piece_notes(piece)
    measure = bar_steps(piece.meter) * RESOLUTION // STEPS_PER_QUARTER
    return {
        "pitch_class_entropy": pitch_class_entropy(notes),
        "scale_consistency": scale_consistency(notes),
        "pitch_range": pitch_range(notes),
        "groove_consistency": groove_consistency(notes, measure),
        "empty_beat_rate": empty_beat_rate(notes),
        "polyphony": polyphony(notes),
    }


def overlap(a: Sequence[float], b: Sequence[float], points: int = 512) -> float:
    """Overlapping area of two Gaussian-KDE densities (Scott's bandwidth); 1 means identical."""
    x = np.array([v for v in a if not math.isnan(v)])
    y = np.array([v for v in b if not math.isnan(v)])
    if len(x) < 2 or len(y) < 2:
        return math.nan
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    spread = hi - lo
    if spread == 0:
        return 1.0
    grid = np.linspace(lo - 0.25 * spread, hi + 0.25 * spread, points)

    def kde(values: np.ndarray) -> np.ndarray:
        bandwidth = max(values.std(ddof=1) * len(values) ** (-1 / 5), spread * 1e-3)
        density = np.exp(-0.5 * ((grid[:, None] - values[None, :]) / bandwidth) ** 2).sum(axis=1)
        return density / np.trapezoid(density, grid)

    return float(np.trapezoid(np.minimum(kde(x), kde(y)), grid))


# --- Form, openings, cadences, voice leading and novelty (issue 22) ---------------------------------

Run = tuple[tuple[int, int], ...]  # (pitch, duration) of consecutive sounding notes


def melody_events(voice: Sequence[Note]) -> list[tuple[int, int]]:
    """(pitch, duration in steps) of a voice's sounding notes, in order (rests dropped)."""
    return [(n.pitch, n.duration) for n in voice if n.pitch is not None]


def _longest_true_run(mask: np.ndarray) -> int:
    """The length of the longest stretch of True in a boolean array."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def longest_restated_run(voice: Sequence[Note]) -> float:
    """Share of a melody's notes in its longest run of notes heard twice (same pitches and durations,
    the two statements not overlapping); 0 for fewer than two notes."""
    events = melody_events(voice)
    n = len(events)
    if n < 2:
        return 0.0 if n else math.nan
    codes = np.array([pitch * 128 + duration for pitch, duration in events], dtype=np.int64)
    best = 0
    for shift in range(1, n):
        if n - shift <= best:
            break  # no run at a larger shift can be longer than what is left to compare
        best = max(best, min(shift, _longest_true_run(codes[shift:] == codes[:-shift])))
    return best / n


def leading_rest(piece: Piece) -> int:
    """Steps of silence before the first note of any voice (a pickup bar's rest counts; all of it when
    nothing sounds)."""
    starts = [n.start for voice in piece.voices for n in voice if n.pitch is not None]
    return min(starts) if starts else max((n.start + n.duration for v in piece.voices for n in v), default=0)


PERFECT = (0, 7)  # interval classes of unisons/octaves and fifths


def parallel_perfects(voices: Sequence[Sequence[Note]]) -> tuple[int, int]:
    """(parallel fifths and octaves, two-voice moves) over every pair of voices.

    A two-voice move is a step at which both voices of a pair change pitch (neither resting before or
    after); it is parallel when both go the same way and the interval between them is a perfect fifth or
    an octave/unison (compound ones too) before and after.
    """
    length = max((n.start + n.duration for voice in voices for n in voice), default=0)
    rolls = np.full((len(voices), length), -1, dtype=np.int64)
    for index, voice in enumerate(voices):
        for note in voice:
            rolls[index, note.start : note.start + note.duration] = -1 if note.pitch is None else note.pitch
    parallels = moves = 0
    for upper in range(len(voices)):
        for lower in range(upper + 1, len(voices)):
            a, b = rolls[upper], rolls[lower]
            before_a, after_a, before_b, after_b = a[:-1], a[1:], b[:-1], b[1:]
            sounding = (before_a >= 0) & (after_a >= 0) & (before_b >= 0) & (after_b >= 0)
            move = sounding & (before_a != after_a) & (before_b != after_b)
            same_way = np.sign(after_a - before_a) == np.sign(after_b - before_b)
            interval_before = (before_a - before_b) % 12
            interval_after = (after_a - after_b) % 12
            perfect = np.isin(interval_before, PERFECT) & (interval_before == interval_after)
            moves += int(move.sum())
            parallels += int((move & same_way & perfect).sum())
    return parallels, moves


def chromatic_share(piece: Piece, scale: Sequence[int]) -> float:
    """Share of all voices' notes whose pitch class is outside `scale` (tonic C)."""
    pcs = [n.pitch % 12 for voice in piece.voices for n in voice if n.pitch is not None]
    return sum(pc not in scale for pc in pcs) / len(pcs) if pcs else math.nan


def run_hashes(events: Sequence[tuple[int, int]], length: int = 16) -> np.ndarray:
    """A 64-bit hash of every run of `length` consecutive (pitch, duration) events, sorted and unique."""
    if len(events) < length:
        return np.zeros(0, dtype=np.uint64)
    codes = np.array([pitch * 128 + duration for pitch, duration in events], dtype=np.uint64)
    base = np.uint64(1_000_003)
    hashes = np.zeros(len(codes) - length + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(length):
            hashes = hashes * base + codes[offset : offset + len(hashes)]
    return np.unique(hashes)


def piece_run_hashes(piece: Piece, length: int = 16) -> np.ndarray:
    """The run hashes of every voice of a piece together."""
    parts = [run_hashes(melody_events(voice), length) for voice in piece.voices]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)


def shared_run_share(hashes: np.ndarray, corpus: np.ndarray) -> float:
    """Share of a piece's runs (its unique run hashes) found in `corpus` (sorted unique hashes)."""
    if not len(hashes):
        return 0.0
    return float(np.isin(hashes, corpus, assume_unique=True).mean())
