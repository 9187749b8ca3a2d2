"""Rendering: valid OGG, MIDI and PNG, each carrying the provenance label."""

from __future__ import annotations

import io
from pathlib import Path

import pretty_midi
import soundfile as sf
from PIL import Image

from models.music.artifacts import render_all
from models.music.compose import MusicModel, Request
from provenance import LABEL
from provenance.verify import verify

RECORD = {"job_id": "a" * 32, "model": "atelier-music/test", "seed": 4, "parameters": {"style": "jig"}}


def test_outputs_are_valid_and_labelled(tiny_weights: Path) -> None:
    composition = MusicModel(tiny_weights).compose(
        Request(style="jig", key="A", mode="minor", tempo=110, bars=4, accompaniment="bass", seed=4)
    )
    rendered = render_all(composition, "Jig in A minor", RECORD)

    midi = pretty_midi.PrettyMIDI(io.BytesIO(rendered.midi))
    assert [i.program for i in midi.instruments] == [0, 32]
    assert abs(midi.get_tempo_changes()[1][0] - 165) < 0.5  # 110 dotted-quarter beats = 165 quarters
    assert (midi.time_signature_changes[0].numerator, midi.time_signature_changes[0].denominator) == (6, 8)
    assert midi.key_signature_changes[0].key_number == 12 + 9
    texts = " ".join(t.text for t in midi.text_events)
    assert LABEL in texts and "a" * 32 in texts

    assert rendered.ogg[:4] == b"OggS"
    audio, rate = sf.read(io.BytesIO(rendered.ogg))
    assert rate == 44100 and len(audio) > rate and abs(audio).max() > 0.05
    info = sf.info(io.BytesIO(rendered.ogg))
    assert info.format == "OGG" and info.subtype == "VORBIS"
    with sf.SoundFile(io.BytesIO(rendered.ogg)) as ogg:
        assert LABEL in ogg.comment and ogg.title == "Jig in A minor"

    image = Image.open(io.BytesIO(rendered.png))
    assert image.format == "PNG" and image.width >= 900
    assert LABEL in image.info["Comment"] and "a" * 32 in image.info["atelier:provenance"]
    for data, name in ((rendered.midi, "tune.mid"), (rendered.ogg, "tune.ogg"), (rendered.png, "roll.png")):
        assert verify(data, name).job_id == "a" * 32  # what `atelier verify` and /verify read
