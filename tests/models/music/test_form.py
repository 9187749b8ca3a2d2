"""Tune form (issue 22): the measures of form, openings, voice leading and novelty, and decoding in form."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from models.music.form import opening_rests, part_starts, plan, resolve
from models.music.grammar import BarGrammar
from models.music.metrics import (
    leading_rest,
    longest_restated_run,
    parallel_perfects,
    piece_run_hashes,
    shared_run_share,
)
from models.music.midi_out import build_midi, pickup_signature
from models.music.model import LeanGPT2, build_model
from models.music.sampling import SamplingParams, sample
from models.music.tokenizer import decode
from models.music.vocab import Note, Piece, Vocab, bar_steps


def _voice(pitches: Sequence[int | None], duration: int = 6) -> list[Note]:
    return [Note(i * duration, duration, p) for i, p in enumerate(pitches)]


def test_longest_restated_run_is_the_longest_phrase_heard_twice_without_overlap() -> None:
    phrase = [60, 62, 64, 65, 67]
    voice = _voice([*phrase, 72, 71, *phrase, 69, None, 60])  # the phrase twice, 14 notes (a rest)
    assert longest_restated_run(voice) == pytest.approx(5 / 14)
    assert longest_restated_run(_voice([60] * 9)) == pytest.approx(4 / 9)  # halves may not overlap
    assert longest_restated_run(_voice([60, 62, 64, 65])) == 0.0
    rhythm_differs = [*_voice(phrase), *[Note(30 + i * 12, 12, p) for i, p in enumerate(phrase)]]
    assert longest_restated_run(rhythm_differs) == 0.0  # same pitches, other durations: not restated


def test_parallel_perfects_count_only_similar_motion_into_the_same_perfect_interval() -> None:
    upper = _voice([67, 69, 72, 74, 76], 12)
    lower = _voice([60, 62, 64, 55, 57], 12)
    # four moves: fifth to fifth (parallel), fifth to sixth, sixth to a twelfth by contrary motion,
    # twelfth to twelfth (a compound fifth: parallel)
    assert parallel_perfects([upper, lower]) == (2, 4)
    assert parallel_perfects([_voice([67, 67], 12), _voice([60, 55], 12)]) == (0, 0)  # upper holds
    held_rest = [Note(0, 12, 60), Note(12, 12, None), Note(24, 12, 62)]
    assert parallel_perfects([_voice([67, 69, 69], 12), held_rest])[0] == 0


def test_a_copied_16_note_run_is_found_and_a_15_note_one_is_not() -> None:
    tune = _voice([60 + (i * 5) % 12 for i in range(40)])
    copied = Piece("reel", "major", "4/4", [_voice([50, 52, *[n.pitch for n in tune[7:23]], 51])])
    near = Piece("reel", "major", "4/4", [_voice([50, *[n.pitch for n in tune[7:22]], 51, 53])])
    corpus = piece_run_hashes(Piece("reel", "major", "4/4", [tune]))
    assert shared_run_share(piece_run_hashes(copied), corpus) > 0
    assert shared_run_share(piece_run_hashes(near), corpus) == 0.0
    assert piece_run_hashes(Piece("reel", "major", "4/4", [_voice([60] * 15)])).size == 0


def test_leading_rest_is_the_silence_before_the_first_note() -> None:
    pickup = Piece("reel", "major", "4/4", [[Note(0, 42, None), Note(42, 6, 67), Note(48, 6, 72)]])
    assert leading_rest(pickup) == 42
    assert leading_rest(Piece("reel", "major", "4/4", [_voice([60, 62])])) == 0


def test_aabb_plan_restates_both_parts_and_ends_b_with_as_cadence() -> None:
    bars = plan("AABB", 32)
    assert len(bars) == 32
    assert [(start, label) for start, label in part_starts(bars)] == [
        (0, "A"),
        (8, "A"),
        (16, "B"),
        (24, "B"),
    ]
    assert [bar.source for bar in bars[8:16]] == list(range(8))  # A again, bar for bar
    assert [bar.source for bar in bars[24:32]] == list(range(16, 24))  # B again
    assert [bar.source for bar in bars[22:24]] == [6, 7]  # B's last two bars are A's cadence
    assert bars[7].cadence and bars[7].part_end and bars[31].tail == "rest"
    assert len(plan("AABB", 31)) == 31 and plan("AABB", 31)[-1].label == "coda"
    assert resolve("auto", "reel", 32) == "AABB" and resolve("auto", "reel", 16) == "AB"
    assert resolve("auto", "chorale", 32) == "none" and resolve("AB", "reel", 32) == "AB"
    # a bar of 2/4 holds half a 4/4 bar: 32 of them are a hornpipe's two 16-bar parts once each
    assert resolve("auto", "hornpipe", 32, "2/4") == "AB" and resolve("auto", "hornpipe", 64, "2/4") == "AABB"
    assert resolve("auto", "jig", 32, "6/8") == "AABB" and resolve("auto", "waltz", 32, "3/4") == "AABB"


@pytest.fixture(scope="module")
def untrained(vocab: Vocab) -> LeanGPT2:
    return LeanGPT2(build_model(vocab, seed=3, n_layer=1, n_embd=32, n_head=2, n_positions=512).eval())


def _bars(ids: list[int], vocab: Vocab) -> list[list[int]]:
    """The event tokens of each bar (one voice)."""
    bars: list[list[int]] = []
    for token in ids:
        if token == vocab.bar:
            bars.append([])
        elif vocab.duration[token] and bars:
            bars[-1].append(token)
    return bars


@pytest.mark.parametrize("seed", range(4))
def test_a_reel_in_aabb_restates_its_parts_note_for_note(
    untrained: LeanGPT2, vocab: Vocab, seed: int
) -> None:
    sampled = sample(
        untrained,
        vocab,
        style="reel",
        mode="major",
        meter="4/4",
        bars=16,
        params=SamplingParams(seed=seed),
        form="AABB",
    )
    bars = _bars(sampled.ids, vocab)
    pickup = int(sampled.upbeat > 0)
    assert len(bars) == 16 + pickup  # `bars` counts the full bars; a pickup is one more
    body = bars[pickup:]
    cut = bar_steps("4/4") - sampled.upbeat

    def head(bar: list[int]) -> list[int]:  # the bar's own music, before an upbeat that leads on
        out, time = [], 0
        for token in bar:
            if time >= cut:
                break
            out.append(token)
            time += vocab.duration[token]
        return out

    assert body[4:7] == body[0:3] and head(body[7]) == head(body[3])  # A twice (4-bar parts)
    assert body[12:15] == body[8:11] and head(body[15]) == head(body[11])  # B twice
    assert head(body[11]) == head(body[3])  # B ends with A's cadence
    piece = decode(sampled.ids, vocab)
    assert leading_rest(piece) in opening_rests("reel", "4/4")
    assert [label for _, label in sampled.parts] == ["A", "A", "B", "B"]


class _LikesRests(LeanGPT2):
    """An untrained model that would rather rest (it opens with bars of silence when left alone)."""

    def forward(self, ids: list[int]) -> torch.Tensor:
        logits = super().forward(ids).clone()
        logits[torch.tensor(self.vocab.pitch) == -1] += 5.0
        return logits


def test_openings_never_rest_longer_than_the_styles_upbeats(vocab: Vocab) -> None:
    lean = _LikesRests(build_model(vocab, seed=3, n_layer=1, n_embd=32, n_head=2, n_positions=512).eval())

    def opening(style: str, meter: str, seed: int, shaped: bool) -> int:
        params = SamplingParams(seed=seed)
        sampled = sample(
            lean, vocab, style=style, mode="major", meter=meter, bars=4, params=params, shaped=shaped
        )
        return leading_rest(decode(sampled.ids, vocab))

    for style, meter in (("jig", "6/8"), ("chorale", "4/4")):
        assert all(opening(style, meter, seed, True) in opening_rests(style, meter) for seed in range(6))
    assert max(opening("jig", "6/8", seed, False) for seed in range(6)) > max(opening_rests("jig", "6/8"))


def test_grammar_forbids_parallel_fifths_and_octaves_with_a_voice_above(vocab: Vocab) -> None:
    grammar = BarGrammar(vocab, 48, 4, 4, no_crossing=True, follow_rests=True)
    whole = [vocab.event_id(p, 48) for p in (72, 65, 60, 48)]  # bar 1: C5 F4 C4 C3
    for token in (
        vocab.bar,
        vocab.voice_ids[0],
        whole[0],
        vocab.voice_ids[1],
        whole[1],
        vocab.voice_ids[2],
        whole[2],
        vocab.voice_ids[3],
        whole[3],
    ):
        grammar.update(token)
    for token in (vocab.bar, vocab.voice_ids[0], vocab.event_id(74, 48), vocab.voice_ids[1]):
        grammar.update(token)  # bar 2: the soprano goes up to D5; the alto (a fifth under C5) is next
    forbidden = grammar.parallels()
    assert forbidden is not None
    banned = {vocab.pitch[i] for i in torch.nonzero(forbidden).flatten().tolist()}
    assert 67 in banned and 55 not in banned  # G4 (fifth under D5, moving up) is parallel; G3 moves down
    assert 62 not in banned and 65 not in banned  # D4 (an octave: F4→D4 goes down), F4 held


def test_midi_of_a_tune_with_an_upbeat_opens_with_a_pickup_bar() -> None:
    assert pickup_signature(6) == (1, 8) and pickup_signature(12) == (1, 4) and pickup_signature(9) == (3, 16)
    assert pickup_signature(0) is None and pickup_signature(4) is None  # a triplet's third: no signature
    from models.music.midi_out import Part

    midi = build_midi(
        [Part("Melody", 0, [Note(0, 6, 67), Note(6, 48, 72)])],
        tempo=120.0,
        meter="4/4",
        tonic=0,
        mode="major",
        texts=[],
        title="t",
        upbeat=6,
    )
    signatures = [(s.numerator, s.denominator, round(s.time, 3)) for s in midi.time_signature_changes]
    assert signatures == [(1, 8, 0.0), (4, 4, 0.25)]  # an eighth at 120 quarters a minute is 0.25 s
    assert np.isclose(midi.instruments[0].notes[0].start, 0.0)  # the tune starts on its upbeat
