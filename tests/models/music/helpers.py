"""Test helpers: MIDI files built in the test (the fake context is `tests.helpers.context`)."""

from __future__ import annotations

import io

import mido
import pretty_midi


def melody_midi(
    pitches: list[int],
    *,
    tempo: float = 100.0,
    beats: float = 0.5,
    drums: bool = False,
    program: int = 73,
    numerator: int = 4,
) -> bytes:
    """A one-track MIDI file of equal notes (each `beats` quarter notes long)."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0.0))
    instrument = pretty_midi.Instrument(program=program, is_drum=drums)
    step = 60.0 / tempo * beats
    for i, pitch in enumerate(pitches):
        instrument.notes.append(pretty_midi.Note(90, pitch, i * step, (i + 1) * step))
    midi.instruments.append(instrument)
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def many_tracks_midi(tracks: int) -> bytes:
    """A valid MIDI file with `tracks` tracks of one note each."""
    file = mido.MidiFile(type=1)
    for _ in range(tracks):
        track = mido.MidiTrack()
        track.append(mido.Message("note_on", note=60, velocity=64, time=0))
        track.append(mido.Message("note_off", note=60, velocity=0, time=240))
        file.tracks.append(track)
    buffer = io.BytesIO()
    file.save(file=buffer)
    return buffer.getvalue()


def tempo_midi(bpm: float) -> bytes:
    file = mido.MidiFile(type=0)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    for pitch in (60, 62, 64, 65):
        track.append(mido.Message("note_on", note=pitch, velocity=64, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    file.tracks.append(track)
    buffer = io.BytesIO()
    file.save(file=buffer)
    return buffer.getvalue()
