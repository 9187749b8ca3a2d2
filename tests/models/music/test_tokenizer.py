"""Token round trips and corpus parsing."""

from __future__ import annotations

from models.music.corpus import COLLECTIONS, abc_piece, keeps_file, parse_key, parse_meter, to_c_shift
from models.music.tokenizer import decode, encode, normalise_voice, piece_bars
from models.music.vocab import Note, Piece, Vocab, bar_steps, split_duration

from .conftest import scale_tune

REEL = """X:1
T:Test Reel
M:C|
L:1/8
R:reel
K:Ador
"Am"EA (3AAA BAGB|A2 "G"GE DEGB|c2 "Am"BA Bc de|g2 ed BA A2:|
"""


def test_round_trip_ids(vocab: Vocab) -> None:
    piece = scale_tune()
    ids = encode(piece, vocab)
    assert ids[:4] == [vocab.bos, vocab.style_id("reel"), vocab.mode_id("major"), vocab.meter_id("4/4")]
    assert ids[-1] == vocab.eos
    assert encode(decode(ids, vocab), vocab) == ids


def test_round_trip_notes_across_bar_lines(vocab: Vocab) -> None:
    """A note over a bar line comes back as two notes, at the same times; nothing else changes."""
    voice = [Note(0, 36, 60), Note(36, 24, 62), Note(60, 36, 64)]  # the second note crosses bar 1
    piece = Piece("air", "minor", "4/4", [voice])
    back = decode(encode(piece, vocab), vocab).voices[0]
    sounding = [(n.start, n.duration, n.pitch) for n in back]
    assert sounding == [(0, 36, 60), (36, 12, 62), (48, 12, 62), (60, 36, 64)]
    assert piece_bars(piece) == 2


def test_four_voices_round_trip(vocab: Vocab) -> None:
    voices = [[Note(0, 48, p), Note(48, 24, p + 2), Note(72, 24, p)] for p in (72, 67, 60, 48)]
    piece = Piece("chorale", "major", "4/4", voices)
    ids = encode(piece, vocab)
    assert ids.count(vocab.voice_ids[3]) == 2
    decoded = decode(ids, vocab)
    assert len(decoded.voices) == 4
    assert [normalise_voice(v, 96) for v in decoded.voices] == [normalise_voice(v, 96) for v in voices]


def test_durations_split_exactly() -> None:
    for duration in range(1, 200):
        assert sum(split_duration(duration)) == duration


def test_abc_reading_and_labels(vocab: Vocab) -> None:
    dance = next(c for c in COLLECTIONS if c.kind == "dance")
    piece = abc_piece(REEL, dance)
    assert piece is not None
    assert (piece.style, piece.mode, piece.meter) == ("reel", "dorian", "4/4")
    bar = bar_steps("4/4")
    starts = [n.start for n in piece.voices[0]]
    assert starts[0] == 0 and all(s % 2 == 0 for s in starts[:3])
    assert piece_bars(piece) % 4 == 0 and bar == 48
    assert encode(decode(encode(piece, vocab), vocab), vocab) == encode(piece, vocab)


def test_key_and_meter_fields() -> None:
    assert parse_key("Ador") == (9, "dorian")
    assert parse_key("F#m") == (6, "minor")
    assert parse_key("Bb") == (10, "major")
    assert parse_key("Gmix") == (7, "mixolydian")
    assert parse_meter("C|") == "4/4" and parse_meter("6/8") == "6/8" and parse_meter("7/8") is None
    assert to_c_shift(2) == -2 and to_c_shift(9) == 3


def test_the_essen_switches_leave_out_all_of_essen_or_only_its_han_collections() -> None:
    by_name = {c.name: c for c in COLLECTIONS}
    essen, oneills = by_name["essen"], by_name["oneills1850"]
    assert keeps_file(essen, "han1", include_han=True, include_essen=True)
    assert not keeps_file(essen, "han1", include_han=False, include_essen=True)
    assert keeps_file(essen, "deutschl", include_han=False, include_essen=True)
    assert not keeps_file(essen, "deutschl", include_han=True, include_essen=False)
    assert not keeps_file(essen, "test", include_han=True, include_essen=True)
    assert keeps_file(oneills, "han1", include_han=False, include_essen=False)  # only Essen is switched
