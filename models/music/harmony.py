"""Accompaniment derived from the melody's harmony: a chord per half bar (or bar), as chords or bass.

Works in the model's frame (tonic C). For each harmonic span, the diatonic triad of the mode that best
covers the melody's pitch classes (weighted by duration, downbeat counted double) is chosen.
"""

from __future__ import annotations

from models.music.vocab import STEPS_PER_QUARTER, Note, bar_steps

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
# degrees whose triads we offer per mode (index into the scale), tonic first
CHORD_DEGREES = {
    "major": (0, 3, 4, 5, 1),
    "minor": (0, 3, 4, 6, 5, 2),
    "dorian": (0, 3, 6, 2, 4),
    "mixolydian": (0, 6, 3, 4, 1),
}


def triads(mode: str) -> list[tuple[int, int, int]]:
    """Diatonic triads (root, third, fifth pitch classes) offered for `mode`; minor uses a major V."""
    scale = SCALES[mode]
    out = []
    for degree in CHORD_DEGREES[mode]:
        root, third, fifth = (scale[(degree + k) % 7] for k in (0, 2, 4))
        if mode == "minor" and degree == 4:
            third = (root + 4) % 12  # harmonic-minor dominant
        out.append((root, third, fifth))
    return out


def span_steps(meter: str) -> int:
    """Harmonic rhythm: half a bar in 4/4, 6/8 and 12/8 (two or four beats), else a whole bar."""
    bar = bar_steps(meter)
    return bar // 2 if meter in ("4/4", "6/8", "2/2") else bar // 4 if meter == "12/8" else bar


def choose_chords(
    melody: list[Note], meter: str, mode: str, total: int
) -> list[tuple[int, int, tuple[int, int, int]]]:
    """(start, duration, triad) per harmonic span, chosen to fit the melody; the last span is the tonic."""
    span = span_steps(meter)
    options = triads(mode)
    chords = []
    previous = options[0]
    for start in range(0, total, span):
        weights = [0.0] * 12
        for note in melody:
            if note.pitch is None:
                continue
            overlap = min(note.start + note.duration, start + span) - max(note.start, start)
            if overlap > 0:
                weights[note.pitch % 12] += overlap * (2.0 if note.start == start else 1.0)
        best = previous
        if any(weights):
            scored = [
                (
                    sum(weights[pc] for pc in chord)
                    + (0.1 if chord == previous else 0.0)
                    + (0.05 if chord == options[0] else 0.0),
                    -i,
                    chord,
                )
                for i, chord in enumerate(options)
            ]
            best = max(scored)[2]
        chords.append((start, min(span, total - start), best))
        previous = best
    if chords:
        start, duration, _ = chords[-1]
        chords[-1] = (start, duration, options[0])
    return chords


def accompaniment(melody: list[Note], meter: str, mode: str, total: int, kind: str) -> list[Note]:
    """Chord voicings (around C3–C4) or a root/fifth bass line (around C2) under the melody."""
    out: list[Note] = []
    if meter.endswith("/8"):
        beat = 3 * STEPS_PER_QUARTER // 2
    else:
        beat = STEPS_PER_QUARTER * (2 if meter.endswith("/2") else 1)
    for start, duration, (root, third, fifth) in choose_chords(melody, meter, mode, total):
        if kind == "chords":
            base = 48 + root if root <= 7 else 36 + root
            for pc in (root, third, fifth):
                pitch = base + (pc - root) % 12
                out.append(Note(start, duration, pitch))
        elif kind == "bass":
            pulses = max(1, duration // beat)
            for k in range(pulses):
                pc = root if k % 2 == 0 else fifth
                pitch = 36 + pc if pc <= 7 else 24 + pc
                length = beat if k < pulses - 1 else duration - beat * (pulses - 1)
                out.append(Note(start + k * beat, length, pitch))
    return out
