"""From a request to a finished piece: load the model, sample under the grammar, add accompaniment.

This is the model-facing half of the backend (no jobs, no files): `MusicModel.compose` returns the
piece in the model's frame plus the concrete parts (in the requested key) ready to render.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.music.harmony import accompaniment
from models.music.midi_in import Prime
from models.music.midi_out import BASS_PROGRAM, CHORD_PROGRAM, Part, from_model_frame, key_shift
from models.music.model import LeanGPT2, load_model
from models.music.sampling import Sampled, SamplingParams, sample
from models.music.tokenizer import decode, encode
from models.music.vocab import Note, Piece, Vocab, bar_steps

STYLE_METERS = {
    "reel": "4/4",
    "jig": "6/8",
    "slip jig": "9/8",
    "hornpipe": "4/4",
    "strathspey": "4/4",
    "waltz": "3/4",
    "air": "3/4",
    "chorale": "4/4",
    "folk song": "4/4",
}
MODE_ALIASES = {"aeolian": "minor", "ionian": "major"}
PITCH_CLASSES = {
    "C": 0,
    "C#": 1,
    "Db": 1,
    "D": 2,
    "D#": 3,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "Gb": 6,
    "G": 7,
    "G#": 8,
    "Ab": 8,
    "A": 9,
    "A#": 10,
    "Bb": 10,
    "B": 11,
}
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")


@dataclass(frozen=True)
class Request:
    """What to compose (mirrors MusicOptions, with the seed already chosen)."""

    style: str = "reel"
    key: str = "D"
    mode: str = "major"
    tempo: int = 120
    bars: int = 16  # full bars after any upbeat, repeats written out
    instrument: int = 0
    accompaniment: str = "none"
    seed: int = 0
    temperature: float = 1.0
    top_p: float = 0.97
    form: str = "auto"


@dataclass
class Composition:
    """A composed piece: model-frame piece, concrete parts, and the figures of its sampling."""

    piece: Piece
    parts: list[Part]
    tonic: int
    mode: str
    meter: str
    quarter_bpm: float
    sampled: Sampled
    tempo: int = 120  # as requested, in the meter's beat
    prime_bars: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    lead: int = 0  # steps of silence before the upbeat, cut from `parts` (which start on the upbeat)
    parts_marked: list[tuple[int, str]] = field(default_factory=list)  # (bar from 0, label) of each part

    @property
    def key_name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def bar_seconds(self) -> float:
        return bar_steps(self.meter) / 12 * 60.0 / self.quarter_bpm

    @property
    def upbeat(self) -> int:
        """Steps of the pickup the parts start on (0: they start on a full bar)."""
        return bar_steps(self.meter) - self.lead if self.lead else 0

    @property
    def first_bar_seconds(self) -> float:
        """Where bar 1 starts in the parts (after the upbeat)."""
        return self.upbeat / 12 * 60.0 / self.quarter_bpm


def shifted(note: Note, steps: int) -> Note:
    return Note(note.start + steps, note.duration, note.pitch)


def quarter_bpm(tempo: float, meter: str) -> float:
    """Quarter notes per minute for a tempo counted in the meter's beat (dotted quarter in x/8)."""
    return tempo * 1.5 if meter in ("6/8", "9/8", "12/8") else tempo


class MusicModel:
    """The trained model and vocabulary from a weights folder, ready to compose."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.vocab = Vocab.load(folder / "vocab.json")
        self.network = load_model(folder)
        self.lean = LeanGPT2(self.network)
        record = folder / "training.json"
        self.training = json.loads(record.read_text()) if record.exists() else {}

    def compose(
        self,
        request: Request,
        prime: Prime | None = None,
        on_bar: Callable[[int, int], None] | None = None,
    ) -> Composition:
        """Sample a piece for `request` (continuing `prime` if given) and build its parts."""
        mode = MODE_ALIASES.get(request.mode, request.mode)
        tonic = PITCH_CLASSES[request.key]
        meter = STYLE_METERS[request.style]
        n_voices = 4 if request.style == "chorale" else 1
        prime_body: list[int] = []
        prime_bars = 0
        if prime is not None:
            tonic, mode, meter, prime_bars = prime.tonic, prime.mode, prime.meter, prime.bars
            voices = [prime.melody] + [[] for _ in range(n_voices - 1)]
            prime_piece = Piece(request.style, mode, meter, voices)
            prime_body = encode(prime_piece, self.vocab, eos=False)[4:]
        params = SamplingParams(request.temperature, request.top_p, request.seed)
        sampled = sample(
            self.lean,
            self.vocab,
            style=request.style,
            mode=mode,
            meter=meter,
            bars=request.bars,
            params=params,
            prime=prime_body,
            prime_bars=prime_bars,
            on_bar=on_bar,
            form=request.form,
        )
        piece = decode(sampled.ids, self.vocab)
        shift = key_shift(tonic)
        bar_len = bar_steps(meter)
        lead = bar_len - sampled.upbeat if sampled.upbeat else 0
        if n_voices == 4:
            parts = [
                Part(VOICE_NAMES[i], request.instrument, from_model_frame(v, shift))
                for i, v in enumerate(piece.voices)
            ]
        else:
            parts = [Part("Melody", request.instrument, from_model_frame(piece.voices[0], shift))]
            if request.accompaniment != "none":
                total = sum(token == self.vocab.bar for token in sampled.ids) * bar_len
                backing = accompaniment(piece.voices[0], meter, mode, total, request.accompaniment)
                if lead:  # the backing comes in on the first downbeat, after the upbeat
                    backing = [n for n in backing if n.start >= bar_len]
                program = CHORD_PROGRAM if request.accompaniment == "chords" else BASS_PROGRAM
                parts.append(
                    Part(request.accompaniment.capitalize(), program, from_model_frame(backing, shift))
                )
        if lead:  # start on the upbeat: no silent bar before the tune
            parts = [Part(p.name, p.program, [shifted(n, -lead) for n in p.notes]) for p in parts]
        return Composition(
            piece,
            parts,
            tonic,
            mode,
            meter,
            quarter_bpm(request.tempo, meter),
            sampled,
            request.tempo,
            prime_bars,
            lead=lead,
            parts_marked=sampled.parts,
        )
