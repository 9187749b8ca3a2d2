"""Round trips for PNG text chunks, MIDI meta events, Ogg Vorbis comments and text footers."""

from __future__ import annotations

import io
from typing import Any

import mido
import numpy as np
import soundfile as sf
from PIL import Image

from provenance import LABEL
from provenance.audio import (
    add_midi_provenance,
    add_ogg_provenance,
    read_midi_provenance,
    read_ogg_provenance,
)
from provenance.png import encode_png, read_png_provenance
from provenance.text import add_footer, footer, parse_footer, strip_footer


def midi_bytes() -> bytes:
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    track.append(mido.Message("note_on", note=62, velocity=80, time=10))
    track.append(mido.Message("note_off", note=62, velocity=0, time=480))
    midi.tracks.append(track)
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def ogg_bytes() -> bytes:
    tone = 0.2 * np.sin(np.linspace(0, 2 * np.pi * 440, 22050)).astype(np.float32)
    out = io.BytesIO()
    sf.write(out, tone, 22050, format="OGG", subtype="VORBIS")
    return out.getvalue()


def test_png_round_trip(record: dict[str, Any]) -> None:
    data = encode_png(Image.new("RGB", (16, 16), (5, 6, 7)), record)
    assert read_png_provenance(data) == record
    image = Image.open(io.BytesIO(data))
    assert image.info["Description"] == LABEL and image.info["Software"] == "Atelier"
    assert "trainedAlgorithmicMedia" in image.info["XML:com.adobe.xmp"]


def test_png_without_record_or_damaged() -> None:
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    assert read_png_provenance(plain.getvalue()) is None
    assert read_png_provenance(plain.getvalue()[:30]) is None
    assert read_png_provenance(b"GIF89a") is None


def test_midi_round_trip_keeps_the_music(record: dict[str, Any]) -> None:
    original = midi_bytes()
    stamped = add_midi_provenance(original, record)
    assert read_midi_provenance(stamped) == record
    restamped = add_midi_provenance(stamped, {**record, "seed": 7})
    assert read_midi_provenance(restamped) == {**record, "seed": 7}
    notes = [m for m in mido.MidiFile(file=io.BytesIO(restamped)).tracks[0] if not m.is_meta]
    assert [(m.type, m.time) for m in notes] == [("note_on", 10), ("note_off", 480)]
    assert any(
        m.type == "copyright" and m.text == LABEL for m in mido.MidiFile(file=io.BytesIO(stamped)).tracks[0]
    )


def test_midi_reader_is_robust(record: dict[str, Any]) -> None:
    stamped = add_midi_provenance(midi_bytes(), record)
    assert read_midi_provenance(midi_bytes()) is None
    for broken in (
        b"",
        b"MThd",
        stamped[:20],
        b"MThd\x00\x00\x00\x06\x00\x01\xff\xff\x01\xe0",
        b"RIFF....",
        b"\x00" * 50,
    ):
        assert read_midi_provenance(broken) is None


def test_ogg_round_trip(record: dict[str, Any]) -> None:
    stamped = add_ogg_provenance(ogg_bytes(), record)
    assert read_ogg_provenance(stamped) == record
    audio, rate = sf.read(io.BytesIO(stamped))
    assert rate == 22050 and len(audio) == 22050


def test_ogg_reader_is_robust(record: dict[str, Any]) -> None:
    stamped = add_ogg_provenance(ogg_bytes(), record)
    assert read_ogg_provenance(ogg_bytes()) is None
    for broken in (b"", b"OggS", stamped[:60], b"OggS" + b"\xff" * 100, midi_bytes()):
        assert read_ogg_provenance(broken) is None


def test_text_footer_round_trip(record: dict[str, Any]) -> None:
    text = add_footer("A reel for the harbour.\nSecond line.", record)
    assert text.endswith(footer(record))
    parsed = parse_footer(text)
    assert parsed == {"label": LABEL, "job_id": record["job_id"], "model": "atelier-folk", "seed": 42}
    assert strip_footer(text) == "A reel for the harbour.\nSecond line."
    assert add_footer(text, record) == text


def test_text_footer_variants(record: dict[str, Any]) -> None:
    copied = strip_footer(add_footer("poem", record)) + "\n\n" + footer(record).removeprefix("-# ") + "\n  "
    assert parse_footer(copied) is not None
    unseeded = add_footer("poem", {**record, "seed": None, "model": "Hugging Face/Smol  LM"})
    assert parse_footer(unseeded) == {
        "label": LABEL,
        "job_id": record["job_id"],
        "model": "Hugging Face/Smol LM",
        "seed": None,
    }
    assert parse_footer("just a poem\nwith lines") is None
    assert parse_footer(f"{LABEL} · job 123 · model x · seed 1") is None
