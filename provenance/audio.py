"""Provenance in audio files: MIDI meta events and Ogg Vorbis comments.

MIDI: track 0 gets a copyright meta event holding the label and a text meta event holding
`atelier:provenance ` followed by the record as JSON. Ogg Vorbis: the comment fields COMMENT (the
label), ENCODER, ATELIER_JOB_ID, ATELIER_MODEL, ATELIER_SEED and ATELIER_PROVENANCE (the JSON record).
Readers take untrusted bytes and return None rather than raise.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import mido

from provenance import LABEL, SOFTWARE

log = logging.getLogger(__name__)

MIDI_PREFIX = "atelier:provenance "
MIDI_MAGIC = b"MThd"
OGG_MAGIC = b"OggS"
OGG_KEY = "ATELIER_PROVENANCE"
MAX_BYTES = 32 * 1024 * 1024


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, default=str)


def _as_record(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def stamp_midi(midi: mido.MidiFile, record: dict[str, Any]) -> None:
    """Put the label and record at the start of track 0 (replacing an earlier stamp)."""
    if not midi.tracks:
        midi.tracks.append(mido.MidiTrack())
    track = midi.tracks[0]
    kept = [
        m
        for m in track
        if not (m.type == "text" and str(m.text).startswith(MIDI_PREFIX))
        and not (m.type == "copyright" and m.text == LABEL)
    ]
    # A removed message's delta time must not be lost: fold the first kept message's time onto itself.
    lost = sum(m.time for m in track) - sum(m.time for m in kept)
    if kept and lost:
        kept[0] = kept[0].copy(time=kept[0].time + lost)
    stamp = [
        mido.MetaMessage("copyright", text=LABEL, time=0),
        mido.MetaMessage("text", text=MIDI_PREFIX + _json(record), time=0),
    ]
    track[:] = stamp + kept


def add_midi_provenance(data: bytes, record: dict[str, Any]) -> bytes:
    """A copy of a Standard MIDI File carrying the record."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    stamp_midi(midi, record)
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def read_midi_provenance(data: bytes) -> dict[str, Any] | None:
    """The record in a MIDI file's meta events, or None (not MIDI, damaged, or unstamped)."""
    if not data.startswith(MIDI_MAGIC) or len(data) > MAX_BYTES:
        return None
    try:
        midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as error:  # mido raises many types on malformed input
        log.debug("unreadable MIDI: %s", error)
        return None
    for track in midi.tracks:
        for message in track:
            if message.type == "text" and str(message.text).startswith(MIDI_PREFIX):
                record = _as_record(str(message.text)[len(MIDI_PREFIX) :])
                if record is not None:
                    return record
    return None


def add_ogg_provenance(data: bytes, record: dict[str, Any]) -> bytes:
    """A copy of an Ogg Vorbis file carrying the record in its comments."""
    from mutagen.oggvorbis import OggVorbis

    buffer = io.BytesIO(data)
    audio = OggVorbis(buffer)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    assert tags is not None
    tags["COMMENT"] = [LABEL]
    tags["ENCODER"] = [SOFTWARE]
    tags["ATELIER_JOB_ID"] = [str(record.get("job_id", ""))]
    tags["ATELIER_MODEL"] = [str(record.get("model", ""))]
    tags["ATELIER_SEED"] = [str(record.get("seed"))]
    tags[OGG_KEY] = [_json(record)]
    buffer.seek(0)
    audio.save(buffer)
    return buffer.getvalue()


def read_ogg_provenance(data: bytes) -> dict[str, Any] | None:
    """The record in an Ogg Vorbis file's comments, or None (not Ogg Vorbis, damaged, or unstamped)."""
    if not data.startswith(OGG_MAGIC) or len(data) > MAX_BYTES:
        return None
    from mutagen.oggvorbis import OggVorbis

    try:
        audio = OggVorbis(io.BytesIO(data))
    except Exception as error:  # mutagen raises many types on malformed input
        log.debug("unreadable Ogg Vorbis: %s", error)
        return None
    values = audio.tags.get(OGG_KEY) if audio.tags is not None else None
    return _as_record(values[0]) if values else None
