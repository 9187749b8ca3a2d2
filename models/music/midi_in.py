"""Reading an uploaded MIDI to continue: validation, melody extraction, key and meter, model frame.

Every problem with the file becomes a GenerationError(INVALID_INPUT) with a sentence for the member.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import pretty_midi

from models.base import GenerationError
from models.music.corpus import fit_range, parse_meter, to_c_shift
from models.music.vocab import STEPS_PER_QUARTER, Note, bar_steps
from wire.contract import ErrorCode

MAX_BYTES = 2 * 1024 * 1024
MAX_TRACKS = 64
MAX_NOTES = 50_000
TEMPO_RANGE = (20.0, 400.0)

# Krumhansl–Kessler key profiles
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass
class Prime:
    """The melody of an uploaded MIDI in the model's frame, with what was read from the file."""

    melody: list[Note]  # tonic C, starting at a bar line, whole bars
    bars: int
    meter: str
    tonic: int
    mode: str
    tempo: float
    program: int


def _invalid(message: str) -> GenerationError:
    return GenerationError(ErrorCode.INVALID_INPUT, message)


def _check_header(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise _invalid(
            f"The MIDI file is too large ({len(data) // 1024} KB); the limit is "
            f"{MAX_BYTES // (1024 * 1024)} MB."
        )
    if len(data) < 14 or data[:4] != b"MThd":
        raise _invalid("That file is not a MIDI file (it does not start with a MIDI header).")
    _, _, tracks, _ = struct.unpack(">IHHH", data[4:14])
    if tracks > MAX_TRACKS:
        raise _invalid(f"The MIDI file has {tracks} tracks; at most {MAX_TRACKS} are supported.")


def detect_key(notes: list[pretty_midi.Note]) -> tuple[int, str]:
    """(tonic pitch class, 'major' or 'minor') by the Krumhansl–Schmuckler method."""
    histogram = np.zeros(12)
    for note in notes:
        histogram[note.pitch % 12] += note.end - note.start
    best = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
            score = float(np.corrcoef(histogram, np.roll(profile, tonic))[0, 1])
            if np.isfinite(score) and score > best[0]:
                best = (score, tonic, mode)
    return best[1], best[2]


def read_prime(data: bytes, *, default_meter: str, max_bars: int = 16) -> Prime:
    """Validate an uploaded MIDI and extract its melody (highest voice of the non-drum tracks)."""
    _check_header(data)
    try:
        midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception:
        raise _invalid("The MIDI file is damaged and could not be read.") from None
    if len(midi.instruments) > MAX_TRACKS:
        raise _invalid(
            f"The MIDI file has {len(midi.instruments)} instruments; at most {MAX_TRACKS} are supported."
        )
    _, tempi = midi.get_tempo_changes()
    if len(tempi) and not all(TEMPO_RANGE[0] <= t <= TEMPO_RANGE[1] for t in tempi):
        raise _invalid(
            f"The MIDI file has a tempo outside {TEMPO_RANGE[0]:.0f}–{TEMPO_RANGE[1]:.0f} BPM "
            f"({max(tempi, key=lambda t: abs(t - 120)):.0f} BPM)."
        )
    pitched = [i for i in midi.instruments if not i.is_drum and i.notes]
    if not any(i.notes for i in midi.instruments):
        raise _invalid("The MIDI file has no notes to continue.")
    if not pitched:
        raise _invalid("The MIDI file has only drum tracks; upload a melody to continue.")
    notes = [n for i in pitched for n in i.notes]
    if len(notes) > MAX_NOTES:
        raise _invalid(f"The MIDI file has {len(notes)} notes; at most {MAX_NOTES} are supported.")
    signatures = midi.time_signature_changes
    meter = parse_meter(f"{signatures[0].numerator}/{signatures[0].denominator}") if signatures else None
    meter = meter or default_meter
    resolution = midi.resolution
    best: dict[int, tuple[int, int]] = {}
    for note in notes:
        onset = round(midi.time_to_tick(note.start) * STEPS_PER_QUARTER / resolution)
        end = max(onset + 1, round(midi.time_to_tick(note.end) * STEPS_PER_QUARTER / resolution))
        if onset not in best or note.pitch > best[onset][1]:
            best[onset] = (end, note.pitch)
    onsets = sorted(best)
    melody: list[Note] = []
    for k, onset in enumerate(onsets):
        end, pitch = best[onset]
        stop = min(end, onsets[k + 1]) if k + 1 < len(onsets) else end
        melody.append(Note(onset, stop - onset, pitch))
    bar_len = bar_steps(meter)
    length = melody[-1].start + melody[-1].duration
    bars = max(1, -(-length // bar_len))
    first_bar = max(0, bars - max_bars)
    melody = [
        Note(n.start - first_bar * bar_len, n.duration, n.pitch)
        for n in melody
        if n.start >= first_bar * bar_len
    ]
    bars -= first_bar
    tonic, mode = detect_key(notes)
    fitted = fit_range([melody], to_c_shift(tonic))
    if fitted is None:  # extreme range: fold every note into the vocabulary's range
        fitted = [
            [Note(n.start, n.duration, 60 + ((n.pitch or 60) + to_c_shift(tonic) - 60) % 24) for n in melody]
        ]
    program = pitched[0].program
    tempo = float(tempi[0]) if len(tempi) else 120.0
    return Prime(fitted[0], bars, meter, tonic, mode, tempo, program)
