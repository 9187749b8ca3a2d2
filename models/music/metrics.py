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
