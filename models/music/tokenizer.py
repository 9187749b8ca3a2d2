"""Pieces to token ids and back (see `vocab` for the scheme)."""

from __future__ import annotations

from collections.abc import Sequence

from models.music.vocab import Note, Piece, Vocab, bar_steps, split_duration


def normalise_voice(notes: Sequence[Note], total: int) -> list[Note]:
    """Fill gaps with rests, clip overlaps and pad to `total` steps: a contiguous voice from 0."""
    out: list[Note] = []
    time = 0
    for note in sorted(notes, key=lambda n: n.start):
        start = max(note.start, time)
        end = min(note.start + note.duration, total)
        if end <= start:
            continue
        if start > time:
            out.append(Note(time, start - time, None))
        out.append(Note(start, end - start, note.pitch))
        time = end
    if time < total:
        out.append(Note(time, total - time, None))
    return out


def _bar_events(voice: Sequence[Note], bar_start: int, bar_len: int) -> list[tuple[int | None, int]]:
    """The (pitch, duration) events of one voice inside one bar, split at the bar lines."""
    events: list[tuple[int | None, int]] = []
    bar_end = bar_start + bar_len
    for note in voice:
        start, end = max(note.start, bar_start), min(note.start + note.duration, bar_end)
        if end > start:
            events.extend((note.pitch, part) for part in split_duration(end - start))
    return events


def piece_bars(piece: Piece) -> int:
    """Number of whole bars the piece spans."""
    length = max((n.start + n.duration for voice in piece.voices for n in voice), default=0)
    bar_len = bar_steps(piece.meter)
    return -(-length // bar_len)


def prefix_ids(vocab: Vocab, style: str, mode: str, meter: str) -> list[int]:
    """The control prefix every sequence starts with."""
    return [vocab.bos, vocab.style_id(style), vocab.mode_id(mode), vocab.meter_id(meter)]


def encode(piece: Piece, vocab: Vocab, *, eos: bool = True) -> list[int]:
    """Token ids of a piece: control prefix, then bar by bar, voice by voice."""
    bar_len = bar_steps(piece.meter)
    n_bars = piece_bars(piece)
    voices = [normalise_voice(v, n_bars * bar_len) for v in piece.voices]
    ids = prefix_ids(vocab, piece.style, piece.mode, piece.meter)
    for bar in range(n_bars):
        ids.append(vocab.bar)
        for index, voice in enumerate(voices):
            if len(voices) > 1:
                ids.append(vocab.voice_ids[index])
            first = bar * bar_len
            lo = next((i for i, n in enumerate(voice) if n.start + n.duration > first), len(voice))
            hi = next((i for i, n in enumerate(voice) if n.start >= first + bar_len), len(voice))
            ids.extend(vocab.event_id(p, d) for p, d in _bar_events(voice[lo:hi], first, bar_len))
    if eos:
        ids.append(vocab.eos)
    return ids


def decode(ids: Sequence[int], vocab: Vocab, *, title: str = "") -> Piece:
    """Rebuild a piece from ids (controls read from the prefix; bars laid end to end)."""
    tokens = [vocab.tokens[i] for i in ids]
    style = next((t[6:] for t in tokens if t.startswith("STYLE_")), "folk song")
    mode = next((t[5:] for t in tokens if t.startswith("MODE_")), "major")
    meter = next((t[6:] for t in tokens if t.startswith("METER_")), "4/4")
    bar_len = bar_steps(meter)
    voices: list[list[Note]] = [[] for _ in range(4)]
    n_voices = 1
    bar = -1
    voice = 0
    time = 0
    for i in ids:
        if i == vocab.bar:
            bar += 1
            voice = 0
            time = bar * bar_len
        elif i in vocab.voice_ids:
            voice = vocab.voice_ids.index(i)
            n_voices = max(n_voices, voice + 1)
            time = max(bar, 0) * bar_len
        elif vocab.duration[i]:
            pitch = vocab.pitch[i]
            voices[voice].append(Note(time, vocab.duration[i], None if pitch < 0 else pitch))
            time += vocab.duration[i]
        elif i == vocab.eos:
            break
    return Piece(style, mode, meter, voices[:n_voices], title=title)


def merge_rests(voice: Sequence[Note]) -> list[Note]:
    """Sounding notes only (rests dropped), for rendering and metrics."""
    return [n for n in voice if n.pitch is not None]
