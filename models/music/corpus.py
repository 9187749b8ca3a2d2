"""Reading music21's bundled corpus into `Piece`s in the model's frame (tonic C, bar-aligned).

abc tunes are read with symusic (fast); Bach's chorales (MusicXML) with music21. Style labels come
from the abc `R:` field, then the title, then the meter (see `dance_style`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import symusic

from models.music.vocab import METERS, PITCH_MAX, PITCH_MIN, STEPS_PER_QUARTER, Note, Piece, bar_steps

log = logging.getLogger(__name__)

PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MODE_WORDS = {
    "": "major",
    "maj": "major",
    "major": "major",
    "ion": "major",
    "lyd": "major",
    "m": "minor",
    "min": "minor",
    "minor": "minor",
    "aeo": "minor",
    "phr": "minor",
    "loc": "minor",
    "dor": "dorian",
    "mix": "mixolydian",
}
RHYTHM_STYLES = {
    "reel": "reel",
    "jig": "jig",
    "double jig": "jig",
    "single jig": "jig",
    "slip jig": "slip jig",
    "slipjig": "slip jig",
    "hornpipe": "hornpipe",
    "clog": "hornpipe",
    "strathspey": "strathspey",
    "highland fling": "strathspey",
    "fling": "strathspey",
    "waltz": "waltz",
    "air": "air",
}


@dataclass(frozen=True)
class Collection:
    """One corpus collection: where it is, how it is labelled, and its licence note."""

    name: str
    folder: str
    pattern: str
    kind: str  # "dance", "folk" or "chorale"
    licence: str


COLLECTIONS = (
    Collection(
        "oneills1850",
        "oneills1850",
        "*.abc",
        "dance",
        "O'Neill's Music of Ireland (1850 tunes), transcribed by Norbert Paap and others; "
        "public-domain tunes, encodings distributed with music21 with the encoders' permission.",
    ),
    Collection(
        "ryansMammoth",
        "ryansMammoth",
        "*.abc",
        "dance",
        "Ryan's Mammoth Collection (1883), public domain; abc transcriptions contributed by "
        "Ray Davies and others, distributed with music21.",
    ),
    Collection(
        "airdsAirs",
        "airdsAirs",
        "*.abc",
        "dance",
        "Aird's Selection of Scotch, English, Irish and Foreign Airs (1782–1803), public domain; "
        "abc transcription distributed with music21.",
    ),
    Collection(
        "essen",
        "essenFolksong",
        "*.abc",
        "folk",
        "Essen Folksong Collection (Schaffrath et al.), distributed with music21; its licence note "
        "calls the legal status unclear; research use. `python -m models.music.data --no-essen` "
        "leaves all of Essen out, `--no-han` only its Han Chinese collections (han1, han2).",
    ),
    Collection(
        "bach",
        "bach",
        "*.mxl",
        "chorale",
        "J.S. Bach four-part chorales (public domain music), MusicXML encodings distributed with music21.",
    ),
)


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def parse_key(field: str) -> tuple[int, str] | None:
    """(tonic pitch class, mode) from an abc K: field such as 'Ador', 'F#m', 'Bb', 'Gmix'."""
    match = re.match(r"\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)", field)
    if not match:
        return None
    letter, accidental, word = match.groups()
    tonic = (PITCH_CLASS[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
    word = word.lower()
    mode = MODE_WORDS.get(word[:3] if len(word) > 1 and word not in MODE_WORDS else word)
    return (tonic, mode) if mode else None


def parse_meter(field: str) -> str | None:
    """A meter from the vocabulary ('C' is 4/4; 'C|' and 2/2 count as 4/4), or None."""
    text = field.strip().split()[0] if field.strip() else ""
    text = {"C": "4/4", "C|": "4/4", "2/2": "4/4"}.get(text, text)
    return text if text in METERS else None


def dance_style(headers: dict[str, str], meter: str) -> str:
    """Label a dance-collection tune: R: field, then title words, then slow airs, then meter."""
    rhythm = headers.get("R", "").strip().lower()
    if rhythm in RHYTHM_STYLES:
        return RHYTHM_STYLES[rhythm]
    title = headers.get("T", "").lower()
    for word in ("slip jig", "jig", "reel", "hornpipe", "strathspey", "fling", "waltz", "air"):
        if re.search(rf"\b{word}\b", title):
            return RHYTHM_STYLES[word]
    if "slow" in headers.get("N", "").lower():
        return "air"
    return {
        "9/8": "slip jig",
        "6/8": "jig",
        "12/8": "jig",
        "3/4": "air",
        "3/2": "air",
        "6/4": "air",
        "3/8": "waltz",
    }.get(meter, "tune")


def split_tunes(text: str) -> Iterator[str]:
    """The tunes of an abc file (each starts with an X: line)."""
    for chunk in re.split(r"\n(?=X:)", "\n" + text):
        if chunk.strip().startswith("X:"):
            yield chunk.strip() + "\n"


def clean_abc(tune: str) -> tuple[dict[str, str], str, str]:
    """(headers, header text, body) with chord symbols, annotations and grace notes removed."""
    headers: dict[str, str] = {}
    head_lines: list[str] = []
    body_lines: list[str] = []
    in_body = False
    for line in tune.splitlines():
        if not in_body and re.match(r"^[A-Za-z]:", line):
            key, value = line[0], line[2:].strip()
            headers[key] = (
                f"{headers[key]} {value}".strip() if key in ("N", "T") and key in headers else value
            )
            head_lines.append(line)
            in_body = key == "K"
        elif in_body and not line.startswith("%") and not re.match(r"^[A-Za-z]:", line):
            body_lines.append(line)
        elif in_body and re.match(r"^[A-Za-z]:", line) and line[0] in "KMLQ":
            break  # a change of key/meter/length mid-tune: stop here
    body = "\n".join(body_lines)
    body = re.sub(r'"[^"]*"', "", body)
    body = re.sub(r"\{[^}]*\}", "", body)
    body = re.sub(r"![^!\n]*!", "", body)
    return headers, "\n".join(head_lines), body


def _score_melody(score: Any) -> list[tuple[int, int, int]]:
    """(onset step, end step, pitch) of the highest note at each onset, over all tracks."""
    tpq = score.ticks_per_quarter
    best: dict[int, tuple[int, int]] = {}
    for track in score.tracks:
        if track.is_drum:
            continue
        for note in track.notes:
            onset = round(note.start * STEPS_PER_QUARTER / tpq)
            end = round((note.start + note.duration) * STEPS_PER_QUARTER / tpq)
            if onset not in best or note.pitch > best[onset][1]:
                best[onset] = (max(end, onset + 1), note.pitch)
    return [(onset, end, pitch) for onset, (end, pitch) in sorted(best.items())]


def melody_voice(events: list[tuple[int, int, int]], offset: int) -> list[Note]:
    """A contiguous monophonic voice: each note lasts to the next onset unless a rest is clear."""
    notes: list[Note] = []
    for i, (onset, end, pitch) in enumerate(events):
        nxt = events[i + 1][0] if i + 1 < len(events) else end
        stop = nxt if nxt - end < STEPS_PER_QUARTER // 4 else end
        if stop > onset:
            notes.append(Note(onset + offset, stop - onset, pitch))
    return notes


def fit_range(voices: list[list[Note]], shift: int) -> list[list[Note]] | None:
    """Transpose by `shift` (±octaves if needed) so every pitch is in the vocabulary's range."""
    pitches = [n.pitch for v in voices for n in v if n.pitch is not None]
    if not pitches:
        return None
    for octave in (0, -12, 12):
        lo, hi = min(pitches) + shift + octave, max(pitches) + shift + octave
        if lo >= PITCH_MIN and hi <= PITCH_MAX:
            s = shift + octave
            return [
                [Note(n.start, n.duration, None if n.pitch is None else n.pitch + s) for n in v]
                for v in voices
            ]
    return None


def to_c_shift(tonic: int) -> int:
    """The semitone shift (−6..5) that takes `tonic` to C."""
    return (-tonic + 6) % 12 - 6


def _pickup_steps(header: str, body: str, bar_len: int) -> int:
    """Length of the anacrusis: the notes before the first bar line, parsed on their own."""
    stripped = body.lstrip().lstrip("|:[] ")
    first = stripped.find("|")
    if first <= 0:
        return 0
    try:
        score: Any = symusic.Score.from_abc(f"{header}\n{stripped[:first]}|\n")
    except Exception:
        return 0
    ends = [n.start + n.duration for t in score.tracks for n in t.notes]
    if not ends:
        return 0
    steps = round(max(ends) * STEPS_PER_QUARTER / score.ticks_per_quarter)
    return steps if 0 < steps < bar_len else 0


def abc_piece(tune: str, collection: Collection) -> Piece | None:
    """One abc tune as a Piece, or None when it cannot be used (no key, odd meter, parse failure)."""
    headers, header, body = clean_abc(tune)
    key = parse_key(headers.get("K", ""))
    meter = parse_meter(headers.get("M", ""))
    if key is None or meter is None or not body.strip():
        return None
    try:
        score: Any = symusic.Score.from_abc(f"{header}\n{body}\n")
    except Exception:
        return None
    events = _score_melody(score)
    if len(events) < 8:
        return None
    bar_len = bar_steps(meter)
    pickup = _pickup_steps(header, body, bar_len)
    offset = (bar_len - pickup) % bar_len - events[0][0]
    voices = fit_range([melody_voice(events, offset)], to_c_shift(key[0]))
    if voices is None:
        return None
    style = "folk song" if collection.kind == "folk" else dance_style(headers, meter)
    return Piece(
        style, key[1], meter, voices, title=headers.get("T", ""), collection=collection.name, tonic=key[0]
    )


def chorale_piece(path: Path) -> Piece | None:
    """A four-part Bach chorale as a four-voice Piece (top note of any chord), or None."""
    import music21

    score: Any = music21.converter.parse(str(path))
    parts = list(score.parts)
    if len(parts) != 4:
        return None
    signatures = score.recurse().getElementsByClass("TimeSignature")
    meter = parse_meter(signatures[0].ratioString) if signatures else None
    if meter is None:
        return None
    key = score.analyze("key")
    mode = "minor" if key.mode == "minor" else "major"
    bar_len = bar_steps(meter)
    measures = parts[0].getElementsByClass("Measure")
    pickup = 0
    if measures and measures[0].number == 0:
        pickup = round(float(measures[0].duration.quarterLength) * STEPS_PER_QUARTER)
    offset = (bar_len - pickup) % bar_len if 0 < pickup < bar_len else 0
    voices: list[list[Note]] = []
    for part in parts:
        notes: list[Note] = []
        for element in part.flatten().notes:
            start = round(float(element.offset) * STEPS_PER_QUARTER) + offset
            duration = round(float(element.duration.quarterLength) * STEPS_PER_QUARTER)
            pitch = max(p.midi for p in element.pitches)
            tie = element.tie.type if element.tie is not None else None
            if tie in ("stop", "continue") and notes and notes[-1].pitch == pitch:
                last = notes.pop()
                notes.append(Note(last.start, start + duration - last.start, pitch))
            elif duration > 0:
                notes.append(Note(start, duration, pitch))
        voices.append(notes)
    fitted = fit_range(voices, to_c_shift(key.tonic.pitchClass))
    if fitted is None:
        return None
    title = str(score.metadata.title or path.stem) if score.metadata else path.stem
    return Piece("chorale", mode, meter, fitted, title=title, collection="bach", tonic=key.tonic.pitchClass)


def keeps_file(collection: Collection, stem: str, *, include_han: bool, include_essen: bool) -> bool:
    """Whether a corpus file goes into the dataset: the Essen collections can be left out (their licence
    is unclear, see COLLECTIONS), all of them or the Han Chinese ones only; Essen's test files never."""
    if collection.kind != "folk":
        return True
    return include_essen and not stem.startswith("test") and (include_han or not stem.startswith("han"))


def iter_pieces(include_han: bool = True, include_essen: bool = True) -> Iterator[tuple[str, Piece]]:
    """(source id, piece) for every usable piece of every collection."""
    root = corpus_root()
    for collection in COLLECTIONS:
        files = sorted((root / collection.folder).glob(collection.pattern))
        for path in files:
            if not keeps_file(collection, path.stem, include_han=include_han, include_essen=include_essen):
                continue
            if collection.kind == "chorale":
                try:
                    piece = chorale_piece(path)
                except Exception as error:  # a malformed file: skip it, say so
                    log.warning("skipping %s: %s", path.name, error)
                    continue
                if piece is not None:
                    yield f"{collection.name}/{path.stem}", piece
                continue
            text = path.read_text(encoding="latin-1")
            for index, tune in enumerate(split_tunes(text)):
                piece = abc_piece(tune, collection)
                if piece is not None:
                    yield f"{collection.name}/{path.stem}/{index}", piece
