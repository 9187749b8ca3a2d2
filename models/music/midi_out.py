"""Writing a generated piece as a MIDI file: tempo, meter, key signature, GM programs, provenance."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pretty_midi

from models.music.vocab import STEPS_PER_QUARTER, Note

MODE_OFFSET = {"major": 0, "mixolydian": 5, "dorian": 10, "minor": 0}  # to the relative major / minor
CHORD_PROGRAM = 24  # acoustic guitar (nylon)
BASS_PROGRAM = 32  # acoustic bass


@dataclass
class Part:
    """One instrument's notes (concert pitch, grid steps) and its GM program."""

    name: str
    program: int
    notes: list[Note]


def from_model_frame(voice: list[Note], shift: int) -> list[Note]:
    """Move notes from the model's frame (tonic C) to the requested key by `shift` semitones."""
    return [Note(n.start, n.duration, n.pitch + shift) for n in voice if n.pitch is not None]


def key_shift(tonic: int) -> int:
    """The shift (−6..5 semitones) from C to `tonic`, the exact inverse of the corpus transposition."""
    return (tonic + 6) % 12 - 6


def pickup_signature(upbeat: int) -> tuple[int, int] | None:
    """The time signature of a pickup bar `upbeat` steps long (in quarters, eighths or sixteenths), or
    None when there is no upbeat or it is not a whole number of sixteenths (a triplet)."""
    for denominator, steps in ((4, 12), (8, 6), (16, 3)):
        if upbeat > 0 and upbeat % steps == 0:
            return upbeat // steps, denominator
    return None


def key_number(tonic: int, mode: str) -> int:
    """pretty_midi key number: the signature of the mode (dorian/mixolydian use their major's)."""
    if mode == "minor":
        return 12 + tonic
    return (tonic + MODE_OFFSET[mode]) % 12


def build_midi(
    parts: list[Part],
    *,
    tempo: float,
    meter: str,
    tonic: int,
    mode: str,
    texts: list[str],
    title: str,
    upbeat: int = 0,
) -> pretty_midi.PrettyMIDI:
    """A PrettyMIDI with one instrument per part, meter, key signature and provenance text events.

    With an `upbeat` (steps; the parts start on it), the file opens with a pickup bar of that length."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=float(tempo), resolution=480)
    seconds_per_step = 60.0 / tempo / STEPS_PER_QUARTER
    numerator, denominator = (int(x) for x in meter.split("/"))
    pickup = pickup_signature(upbeat)
    if pickup is not None:
        midi.time_signature_changes.append(pretty_midi.TimeSignature(*pickup, 0.0))
    start = upbeat * seconds_per_step if pickup is not None else 0.0
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, start))
    midi.key_signature_changes.append(pretty_midi.KeySignature(key_number(tonic, mode), 0.0))
    for index, part in enumerate(parts):
        instrument = pretty_midi.Instrument(program=part.program, name=part.name)
        velocity = 96 if index == 0 else 70
        for note in part.notes:
            if note.pitch is None:
                continue
            start = note.start * seconds_per_step
            end = (note.start + note.duration) * seconds_per_step
            instrument.notes.append(pretty_midi.Note(velocity, int(note.pitch), start, end - 0.01))
        midi.instruments.append(instrument)
    midi.text_events.append(pretty_midi.Text(title, 0.0))
    for text in texts:
        midi.text_events.append(pretty_midi.Text(text, 0.0))
    return midi


def midi_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()
