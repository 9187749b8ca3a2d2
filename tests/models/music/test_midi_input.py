"""Uploaded MIDI: continuation in the right key, and every kind of bad file refused with a sentence."""

from __future__ import annotations

import io
from pathlib import Path

import pretty_midi
import pytest

from models.base import GenerationError
from models.music.compose import MusicModel, Request
from models.music.midi_in import read_prime
from wire.contract import ErrorCode

from .helpers import many_tracks_midi, melody_midi, tempo_midi

G_MAJOR_TUNE = [67, 71, 74, 71, 67, 69, 71, 72, 74, 76, 74, 71, 69, 67, 66, 67] * 2  # 4 bars of eighths


def test_prime_is_read_in_the_model_frame() -> None:
    prime = read_prime(melody_midi(G_MAJOR_TUNE), default_meter="4/4")
    assert (prime.tonic, prime.mode, prime.meter, prime.bars) == (7, "major", "4/4", 4)
    assert [n.pitch for n in prime.melody][:3] == [72, 76, 79]  # G B D moved to C E G
    assert prime.melody[0].start == 0 and all(n.duration == 6 for n in prime.melody)


def test_highest_voice_of_non_drum_tracks_is_the_melody() -> None:
    midi = pretty_midi.PrettyMIDI(io.BytesIO(melody_midi(G_MAJOR_TUNE)))
    low = pretty_midi.Instrument(program=0)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    for note in midi.instruments[0].notes:
        low.notes.append(pretty_midi.Note(80, note.pitch - 12, note.start, note.end))
        drums.notes.append(pretty_midi.Note(80, 100, note.start, note.end))
    midi.instruments += [low, drums]
    buffer = io.BytesIO()
    midi.write(buffer)
    prime = read_prime(buffer.getvalue(), default_meter="4/4")
    assert [n.pitch for n in prime.melody][:3] == [72, 76, 79]


def test_continuation_keeps_the_prime_and_adds_bars(tiny_weights: Path) -> None:
    model = MusicModel(tiny_weights)
    prime = read_prime(melody_midi(G_MAJOR_TUNE), default_meter="4/4")
    composition = model.compose(Request(style="reel", bars=4, seed=3), prime)
    assert composition.prime_bars == 4 and composition.key_name == "G major"
    melody = composition.parts[0].notes
    assert [n.pitch for n in melody[: len(G_MAJOR_TUNE)]] == G_MAJOR_TUNE  # transposed back exactly
    assert sum(n.duration for n in composition.piece.voices[0]) == 8 * 48


BAD_FILES = {
    "corrupt": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff\x90\x3c",
    "no notes": melody_midi([]),
    "only drums": melody_midi([36, 38, 42, 36], drums=True),
    "hundreds of tracks": many_tracks_midi(300),
    "absurd fast tempo": tempo_midi(2000),
    "absurd slow tempo": tempo_midi(5),
    "10 MB": b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0" + b"\x00" * (10 * 1024 * 1024),
    "not MIDI renamed .mid": b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_refused_with_a_sentence(name: str) -> None:
    with pytest.raises(GenerationError) as caught:
        read_prime(BAD_FILES[name], default_meter="4/4")
    assert caught.value.code == ErrorCode.INVALID_INPUT
    message = caught.value.message
    assert message.endswith(".") and message[0].isupper() and len(message) > 20
