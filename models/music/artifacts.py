"""The three files of a music job: tune.mid, tune.ogg and piano-roll.png, each carrying provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from models.music.compose import Composition
from models.music.midi_out import build_midi, midi_bytes
from models.music.render import piano_roll_png, render_audio
from provenance import LABEL, SOFTWARE
from provenance.audio import add_midi_provenance, add_ogg_provenance
from provenance.png import KEY as PNG_KEY


@dataclass
class Rendered:
    midi: bytes
    ogg: bytes
    png: bytes
    engine: str
    seconds: float  # audio length


def provenance_lines(record: dict[str, Any]) -> list[str]:
    """Short text lines for MIDI text events and audio comments."""
    return [
        LABEL,
        f"job {record.get('job_id')} · model {record.get('model')} · seed {record.get('seed')}",
        "parameters " + json.dumps(record.get("parameters", {}), sort_keys=True, separators=(",", ":")),
    ]


def part_seconds(composition: Composition, bar: int) -> float:
    """Where token bar `bar` (from 0; a pickup bar is bar 0) starts in the rendered parts."""
    if composition.upbeat:
        return composition.first_bar_seconds + (bar - 1) * composition.bar_seconds
    return bar * composition.bar_seconds


def render_all(composition: Composition, title: str, record: dict[str, Any]) -> Rendered:
    """MIDI, OGG Vorbis and piano-roll PNG of a composition, stamped with the provenance record."""
    from models.music.render import ogg_bytes

    record = {key: value for key, value in record.items() if key != "figures"}  # stable facts only
    lines = provenance_lines(record)
    midi = build_midi(
        composition.parts,
        tempo=composition.quarter_bpm,
        meter=composition.meter,
        tonic=composition.tonic,
        mode=composition.mode,
        texts=lines,
        title=title,
        upbeat=composition.upbeat,
    )
    audio, engine = render_audio(midi)
    ogg = ogg_bytes(
        audio, {"title": title, "comment": " | ".join(lines), "software": SOFTWARE, "artist": LABEL}
    )
    seconds_per_step = 60.0 / composition.quarter_bpm / 12
    voices = [
        [
            (n.start * seconds_per_step, n.duration * seconds_per_step, int(n.pitch))
            for n in part.notes
            if n.pitch is not None
        ]
        for part in composition.parts
    ]
    beat = "dotted-quarter beats" if composition.quarter_bpm != composition.tempo else "bpm"
    names = " + ".join(p.name for p in composition.parts)
    subtitle = f"{composition.meter} · {composition.tempo} {beat} · {names} · {LABEL}"
    png = piano_roll_png(
        voices,
        bar_seconds=composition.bar_seconds,
        title=title,
        subtitle=subtitle,
        text_meta={
            "Title": title,
            "Software": SOFTWARE,
            "Comment": " | ".join(lines),
            PNG_KEY: json.dumps(record, sort_keys=True, default=str),
        },
        names=[p.name for p in composition.parts],
        mark_seconds=composition.prime_bars * composition.bar_seconds or None,
        first_bar_seconds=composition.first_bar_seconds,
        part_marks=[
            (part_seconds(composition, bar) if index else 0.0, label)
            for index, (bar, label) in enumerate(composition.parts_marked)
        ],
    )
    # The machine-readable record that `atelier verify` and /verify read, beside the readable lines.
    stamped_midi = add_midi_provenance(midi_bytes(midi), record)
    return Rendered(stamped_midi, add_ogg_provenance(ogg, record), png, engine, len(audio) / 44100)
