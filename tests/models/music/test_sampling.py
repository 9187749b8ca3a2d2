"""Grammar-constrained sampling: every bar has the meter's length; the same seed gives the same piece."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from models.music.grammar import BarGrammar, bars_well_formed
from models.music.model import LeanGPT2, build_model, load_model
from models.music.sampling import (
    LONG_NOTE,
    SamplingParams,
    StyleDecoding,
    duration_groups,
    pick,
    sample,
    span_mask,
)
from models.music.tokenizer import decode
from models.music.vocab import Note, Vocab, bar_steps


@pytest.fixture(scope="module")
def lean(tiny_weights: Path) -> LeanGPT2:
    return LeanGPT2(load_model(tiny_weights))


@pytest.mark.parametrize(
    ("style", "meter"),
    [("reel", "4/4"), ("jig", "6/8"), ("slip jig", "9/8"), ("waltz", "3/4"), ("chorale", "4/4")],
)
def test_every_bar_has_the_meters_length(lean: LeanGPT2, vocab: Vocab, style: str, meter: str) -> None:
    for seed in range(3):
        sampled = sample(
            lean,
            vocab,
            style=style,
            mode="major",
            meter=meter,
            bars=12,
            params=SamplingParams(temperature=1.5, top_p=1.0, seed=seed),
        )
        good, total = bars_well_formed(sampled.ids, vocab, bar_steps(meter))
        assert good == total == 12
        piece = decode(sampled.ids, vocab)
        assert len(piece.voices) == (4 if style == "chorale" else 1)
        for voice in piece.voices:
            assert sum(n.duration for n in voice) == 12 * bar_steps(meter)


def test_untrained_model_also_obeys_the_grammar(vocab: Vocab) -> None:
    """The constraint comes from the grammar, not from training."""
    lean = LeanGPT2(build_model(vocab, n_layer=1, n_embd=32, n_head=2, n_positions=64))
    sampled = sample(
        lean, vocab, style="hornpipe", mode="dorian", meter="4/4", bars=20, params=SamplingParams(seed=5)
    )  # 64 positions: the window slides several times
    assert bars_well_formed(sampled.ids, vocab, 48) == (20, 20)
    chorale = sample(
        lean, vocab, style="chorale", mode="minor", meter="4/4", bars=6, params=SamplingParams(seed=5)
    )
    assert bars_well_formed(chorale.ids, vocab, 48) == (6, 6)  # even the last-bar draw outgrows the context


def test_same_seed_same_piece(lean: LeanGPT2, vocab: Vocab) -> None:
    def run(seed: int) -> list[int]:
        return sample(
            lean,
            vocab,
            style="reel",
            mode="major",
            meter="4/4",
            bars=8,
            params=SamplingParams(1.0, 0.95, seed),
        ).ids

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_lean_forward_matches_transformers(tiny_weights: Path) -> None:
    import torch

    model = load_model(tiny_weights)
    ids = torch.tensor([[1, 4, 15, 20, 3, 500, 501, 3, 600]])
    with torch.no_grad():
        reference = model(ids).logits[0]
    lean = LeanGPT2(model)
    lean.forward(ids[0, :5].tolist())
    for j in range(5, 9):
        out = lean.forward([int(ids[0, j])])
    assert torch.allclose(out, reference[-1], atol=1e-4)


def test_grammar_forces_bar_lines_and_end(vocab: Vocab) -> None:
    grammar = BarGrammar(vocab, bar_len=36, n_voices=1, total_bars=1)
    assert grammar.forced() == vocab.bar
    grammar.update(vocab.bar)
    assert grammar.forced() is None
    allowed = grammar.allowed()
    assert not allowed[vocab.event_id(60, 48)] and allowed[vocab.event_id(60, 36)]
    grammar.update(vocab.event_id(60, 36))
    assert grammar.forced() == vocab.eos


def _hot_chorale(
    lean: LeanGPT2, vocab: Vocab, seed: int, mode: str = "major", meter: str = "4/4"
) -> list[list[Note]]:
    """The voices of a 6-bar chorale sampled hot (temperature 2, no nucleus), to stress the grammar."""
    sampled = sample(
        lean,
        vocab,
        style="chorale",
        mode=mode,
        meter=meter,
        bars=6,
        params=SamplingParams(temperature=2.0, top_p=1.0, seed=seed),
    )
    return decode(sampled.ids, vocab).voices


def _steps(voice: list[Note]) -> list[int | None]:
    """The pitch a voice sounds at each step (None: a rest)."""
    return [n.pitch for n in voice for _ in range(n.duration)]


def test_chorale_voices_stay_in_their_ranges(lean: LeanGPT2, vocab: Vocab) -> None:
    from models.music.grammar import CHORALE_RANGES

    for voice, (lo, hi) in zip(_hot_chorale(lean, vocab, 9, mode="minor"), CHORALE_RANGES, strict=True):
        assert all(lo <= n.pitch <= hi for n in voice if n.pitch is not None)


def test_chorale_lower_voices_rest_exactly_where_the_soprano_rests(lean: LeanGPT2, vocab: Vocab) -> None:
    for seed in range(3):
        voices = _hot_chorale(lean, vocab, seed, meter="3/4")

        def resting(voice: list) -> list[bool]:
            return [n.pitch is None for n in voice for _ in range(n.duration)]

        soprano = resting(voices[0])
        assert all(resting(voice) == soprano for voice in voices[1:])


def test_follow_rests_grammar_masks(vocab: Vocab) -> None:
    grammar = BarGrammar(vocab, bar_len=48, n_voices=4, total_bars=1, follow_rests=True)
    for token in (vocab.bar, vocab.voice_ids[0], vocab.event_id(None, 12), vocab.event_id(72, 36)):
        grammar.update(token)
    grammar.update(vocab.voice_ids[1])
    allowed = grammar.allowed()  # the soprano rests for 12 steps: only rests of at most 12
    assert allowed[vocab.event_id(None, 12)] and allowed[vocab.event_id(None, 6)]
    assert not allowed[vocab.event_id(None, 24)] and not allowed[vocab.event_id(60, 12)]
    grammar.update(vocab.event_id(None, 12))
    allowed = grammar.allowed()  # then it sounds: notes only
    assert allowed[vocab.event_id(60, 36)] and not allowed[vocab.event_id(None, 12)]


def test_chorale_voices_never_cross(lean: LeanGPT2, vocab: Vocab) -> None:
    grids = [_steps(voice) for voice in _hot_chorale(lean, vocab, 3, mode="minor")]
    for upper, lower in itertools.pairwise(grids):
        assert all(lo is None or lo <= up for up, lo in zip(upper, lower, strict=True))


def test_unison_mask_marks_the_upper_voices_pitch(vocab: Vocab) -> None:
    grammar = BarGrammar(vocab, bar_len=48, n_voices=4, total_bars=1, follow_rests=True, no_crossing=True)
    for token in (vocab.bar, vocab.voice_ids[0], vocab.event_id(72, 48), vocab.voice_ids[1]):
        grammar.update(token)
    unisons = grammar.unisons()
    assert unisons is not None and unisons[vocab.event_id(72, 12)] and not unisons[vocab.event_id(71, 12)]
    allowed = grammar.allowed()
    assert allowed[vocab.event_id(72, 12)] and not allowed[vocab.event_id(74, 12)]


def test_spacing_mask_keeps_a_lower_voice_within_its_gap(vocab: Vocab) -> None:
    grammar = BarGrammar(
        vocab,
        bar_len=48,
        n_voices=4,
        total_bars=1,
        follow_rests=True,
        no_crossing=True,
        max_gaps=(12, 12, 19),
    )
    soprano = (vocab.event_id(72, 24), vocab.event_id(76, 24))
    for token in (vocab.bar, vocab.voice_ids[0], *soprano, vocab.voice_ids[1]):
        grammar.update(token)
    allowed = grammar.allowed()  # under 72 for two beats: the alto may sit an octave below, no further
    assert allowed[vocab.event_id(60, 12)] and allowed[vocab.event_id(72, 24)]
    assert not allowed[vocab.event_id(59, 12)] and not allowed[vocab.event_id(73, 12)]
    # a note held across the soprano's leap to 76 must stay under 72 and within an octave of 76
    assert allowed[vocab.event_id(64, 48)] and not allowed[vocab.event_id(63, 48)]
    grammar.update(vocab.event_id(60, 48))
    grammar.update(vocab.voice_ids[2])
    allowed = grammar.allowed()  # the tenor under an alto on 60
    assert allowed[vocab.event_id(48, 12)] and not allowed[vocab.event_id(47, 12)]


def test_chorale_voices_keep_the_spacing(lean: LeanGPT2, vocab: Vocab) -> None:
    from models.music.grammar import CHORALE_MAX_GAPS

    for seed in range(3):
        grids = [_steps(voice) for voice in _hot_chorale(lean, vocab, seed)]
        for (upper, lower), gap in zip(itertools.pairwise(grids), CHORALE_MAX_GAPS, strict=True):
            assert all(
                lo is None or up is None or up - lo <= gap for up, lo in zip(upper, lower, strict=True)
            )


def _untrained(vocab: Vocab) -> LeanGPT2:
    torch.manual_seed(0)
    return LeanGPT2(build_model(vocab, n_layer=1, n_embd=32, n_head=2, n_positions=128))


def _event_starts(ids: list[int], vocab: Vocab) -> list[int]:
    """Position within the bar of every event (one-voice pieces)."""
    starts, position = [], None
    for token in ids:
        if token == vocab.bar:
            position = 0
        elif vocab.duration[token] and position is not None:
            starts.append(position)
            position += vocab.duration[token]
    return starts


def test_grid_masks_end_events_on_reachable_grid_positions(vocab: Vocab) -> None:
    from models.music.grammar import grid_masks

    masks = grid_masks(vocab, bar_len=24, grid=(0, 4, 5, 12, 18))
    # from 0: to 4, 12, 18 or the bar line (24); 5 is on the grid but no duration leads on from it
    assert masks[0][vocab.event_id(60, 4)] and masks[0][vocab.event_id(None, 12)]
    assert masks[0][vocab.event_id(60, 24)] and masks[4][vocab.event_id(60, 8)]
    assert masks[18][vocab.event_id(60, 6)] and masks[12][vocab.event_id(None, 12)]
    assert not masks[0][vocab.event_id(60, 6)] and not masks[4][vocab.event_id(60, 1)]
    assert not masks[0][vocab.bar] and not masks[0][vocab.eos]


def test_onset_grid_keeps_every_event_on_the_grid(vocab: Vocab) -> None:

    grid = (0, 4, 6, 10, 12, 16, 18, 22)  # swung sixteenths in 2/4
    lean = _untrained(vocab)
    for decoding, expect_on_grid in ((StyleDecoding(grids={"2/4": grid}), True), (StyleDecoding(), False)):
        starts: list[int] = []
        for seed in range(3):
            sampled = sample(
                lean,
                vocab,
                style="hornpipe",
                mode="major",
                meter="2/4",
                bars=8,
                params=SamplingParams(temperature=1.5, top_p=1.0, seed=seed),
                decoding=decoding,
            )
            assert bars_well_formed(sampled.ids, vocab, 24) == (8, 8)
            starts += _event_starts(sampled.ids, vocab)
        assert all(s in grid for s in starts) == expect_on_grid


def test_in_scale_writes_only_the_modes_scale(vocab: Vocab) -> None:
    from models.music.harmony import SCALES

    lean = _untrained(vocab)
    for mode in ("major", "minor", "dorian"):
        pitches: dict[bool, set[int]] = {}
        for in_scale in (True, False):
            sampled = sample(
                lean,
                vocab,
                style="strathspey",
                mode=mode,
                meter="4/4",
                bars=8,
                params=SamplingParams(temperature=1.5, top_p=1.0, seed=1),
                decoding=StyleDecoding(in_scale=in_scale),
            )
            pitches[in_scale] = {
                n.pitch % 12 for n in decode(sampled.ids, vocab).voices[0] if n.pitch is not None
            }
        assert pitches[True] <= set(SCALES[mode])
        assert not pitches[False] <= set(SCALES[mode])  # the untrained model alone writes accidentals


def _notes_decoded_with(
    vocab: Vocab, style: str, bars: int, seed: int, decoding: StyleDecoding
) -> list[Note]:
    """The sounding notes (all voices) an untrained model writes under `decoding` (alone: no form,
    opening or drawn ending, whose cadences would add tonic notes of their own)."""
    sampled = sample(
        _untrained(vocab),
        vocab,
        style=style,
        mode="major",
        meter="4/4",
        bars=bars,
        params=SamplingParams(seed=seed),
        decoding=decoding,
        shaped=False,
    )
    return [n for voice in decode(sampled.ids, vocab).voices for n in voice if n.pitch is not None]


def test_accidentals_offset_moves_the_out_of_scale_share(vocab: Vocab) -> None:
    from models.music.harmony import SCALES

    def share(offset: float) -> float:
        notes = _notes_decoded_with(vocab, "hornpipe", 8, 2, StyleDecoding(accidentals=offset))
        return sum(n.pitch % 12 not in SCALES["major"] for n in notes) / len(notes)

    assert share(-30.0) == 0.0
    assert share(30.0) == 1.0
    assert 0.0 < share(0.0) < 1.0


def test_long_notes_offset_moves_the_share_of_long_notes(vocab: Vocab) -> None:
    def share(offset: float) -> float:
        notes = _notes_decoded_with(vocab, "chorale", 4, 4, StyleDecoding(long_notes=offset))
        return sum(n.duration >= LONG_NOTE for n in notes) / len(notes)

    # (not 1.0 even at +30: a bar may hold a dotted half and a quarter, and a lower voice held under a
    # leaping soprano would cross it or leave its spacing)
    assert share(-30.0) == 0.0
    assert 0.0 < share(0.0) < share(1.0) < share(30.0)


def test_duration_groups_put_each_duration_in_its_own_group(vocab: Vocab) -> None:
    groups = duration_groups(vocab)
    assert int(groups[vocab.bar]) == int(groups[vocab.eos]) == 0
    assert int(groups[vocab.event_id(60, 12)]) == int(groups[vocab.event_id(None, 12)])
    assert int(groups[vocab.event_id(60, 12)]) != int(groups[vocab.event_id(60, 6)])


def test_nucleus_cuts_the_pitch_but_not_the_rhythm(vocab: Vocab) -> None:
    """One quarter note holds 90% of the mass, ten eighths 1% each: plain top-p never writes an eighth."""
    quarter = vocab.event_id(72, 12)
    eighths = [vocab.event_id(60 + k, 6) for k in range(10)]
    probs = torch.full((len(vocab),), 1e-12)
    probs[quarter] = 0.9
    probs[eighths] = 0.01
    logits, allowed = probs.log(), torch.ones(len(vocab), dtype=torch.bool)
    params = SamplingParams(1.0, 0.85)
    plain = [pick(logits, allowed, params, torch.Generator().manual_seed(s)) for s in range(300)]
    assert set(plain) == {quarter}
    gen = torch.Generator().manual_seed(0)
    factored = [pick(logits, allowed, params, gen, duration_groups(vocab)) for _ in range(2000)]
    share = sum(token in eighths for token in factored) / len(factored)
    assert 0.07 < share < 0.13
    assert set(factored) <= {quarter, *eighths}


def test_max_span_keeps_the_melody_within_the_styles_widest_span(vocab: Vocab) -> None:

    lean = _untrained(vocab)
    spans: dict[int | None, int] = {}
    for max_span in (12, None):
        sampled = sample(
            lean,
            vocab,
            style="reel",
            mode="major",
            meter="4/4",
            bars=16,
            params=SamplingParams(temperature=1.5, top_p=1.0, seed=2),
            decoding=StyleDecoding(max_span=max_span),
        )
        pitches = [n.pitch for n in decode(sampled.ids, vocab).voices[0] if n.pitch is not None]
        spans[max_span] = max(pitches) - min(pitches)
    assert spans[12] <= 12
    assert spans[None] > 12  # the untrained model alone wanders much further


def test_span_mask_leaves_a_melody_already_wider_alone(vocab: Vocab) -> None:
    pitch = torch.tensor(vocab.pitch)
    assert span_mask(pitch, [], 12) is None
    assert span_mask(pitch, [50, 70], 12) is None  # an uploaded tune wider than the span
    within = span_mask(pitch, [60, 64], 12)
    assert within is not None
    assert bool(within[vocab.event_id(52, 12)]) and bool(within[vocab.event_id(72, 12)])
    assert not bool(within[vocab.event_id(51, 12)]) and not bool(within[vocab.event_id(73, 12)])
    assert bool(within[vocab.event_id(None, 12)]) and bool(within[vocab.bar])


C_MAJOR = {0, 2, 4, 5, 7, 9, 11}


class _EndsInCMajor(LeanGPT2):
    """The tiny model, except that it thinks a piece can end only after a note of the C major scale."""

    def __init__(self, model: torch.nn.Module, vocab: Vocab) -> None:
        super().__init__(model)
        self.vocab = vocab

    def forward(self, ids: list[int]) -> torch.Tensor:
        logits = super().forward(ids).clone()
        pitch = self.vocab.pitch[ids[-1]]
        logits[self.vocab.eos] += 20.0 if pitch >= 0 and pitch % 12 in C_MAJOR else -20.0
        return logits


def _last_pitch(ids: list[int], vocab: Vocab) -> int:
    return [vocab.pitch[t] for t in ids if vocab.pitch[t] >= 0][-1]


def test_last_bar_is_drawn_as_the_ending_the_model_expects(tiny_weights: Path, vocab: Vocab) -> None:
    lean = _EndsInCMajor(load_model(tiny_weights), vocab)

    def piece(seed: int, candidates: int) -> list[int]:
        params = SamplingParams(temperature=1.5, top_p=1.0, seed=seed)
        return sample(
            lean,
            vocab,
            style="jig",
            mode="major",
            meter="6/8",
            bars=4,
            params=params,
            ending_candidates=candidates,
            shaped=False,  # the draw alone (a jig's form would write its last bar as a restatement)
        ).ids

    plain = [_last_pitch(piece(seed, 1), vocab) % 12 in C_MAJOR for seed in range(12)]
    drawn = [piece(seed, 16) for seed in range(12)]
    assert sum(plain) < 12  # left to itself, the tiny model ends on any pitch
    assert all(_last_pitch(ids, vocab) % 12 in C_MAJOR for ids in drawn)
    assert all(bars_well_formed(ids, vocab, bar_steps("6/8")) == (4, 4) for ids in drawn)
    assert piece(3, 16) == drawn[3]  # same seed, same piece


@pytest.mark.parametrize("voices_above", [False, True])
def test_last_bar_draw_leaves_the_cache_as_a_fresh_run_would(vocab: Vocab, voices_above: bool) -> None:
    model = build_model(
        vocab, seed=2, voices_above=voices_above, n_layer=1, n_embd=32, n_head=2, n_positions=128
    )
    lean = LeanGPT2(model.eval())
    for style, meter in (("reel", "4/4"), ("chorale", "4/4")):
        ids = sample(
            lean, vocab, style=style, mode="major", meter=meter, bars=2, params=SamplingParams(seed=1)
        ).ids
        assert lean.length == len(ids) - 1  # everything but the end token went through the model once
        fresh = LeanGPT2(model)
        fresh.forward(ids[:-1])
        assert torch.allclose(lean.forward([vocab.bar]), fresh.forward([vocab.bar]), atol=1e-4)


def test_ending_weights_keep_only_cadences_when_any() -> None:
    from models.music.sampling import ending_weights

    weights = ending_weights([-1.0, -2.0, -3.0], [False, True, True])
    assert weights[0] == 0.0 and torch.isclose(weights[1] / weights[2], torch.tensor(math.e))
    plain = ending_weights([-1.0, -2.0], [False, False])
    assert torch.allclose(plain, torch.tensor([-1.0, -2.0]).softmax(-1))


def test_outer_voices_end_on_tonic_reads_the_last_note_of_soprano_and_bass() -> None:
    from models.music.metrics import outer_voices_end_on_tonic

    def voice(*pitches: int | None) -> list[Note]:
        return [Note(12 * i, 12, p) for i, p in enumerate(pitches)]

    assert outer_voices_end_on_tonic([voice(67, 72, None), voice(64, 67), voice(59, 55), voice(43, 48)])
    assert not outer_voices_end_on_tonic([voice(74), voice(67), voice(59), voice(48)])  # soprano on D
    assert not outer_voices_end_on_tonic([voice(72), voice(67), voice(64), voice(43)])  # bass on G
    assert not outer_voices_end_on_tonic([voice(72), voice(None)])


def test_cadence_draws_the_last_bar_among_endings_on_the_tonic(vocab: Vocab) -> None:
    """Same seed, same candidates (the draw takes the same random numbers): whenever the plain draw
    ends on the tonic, some candidate did, so the cadence draw does too; and it does more often."""
    import dataclasses

    from models.music.metrics import outer_voices_end_on_tonic
    from models.music.sampling import STYLE_DECODING
    from models.music.train import WEIGHTS_DIR

    committed = LeanGPT2(load_model(WEIGHTS_DIR))
    chorale = STYLE_DECODING["chorale"]
    assert chorale.cadence

    def ends_on_tonic(seed: int, decoding: StyleDecoding) -> bool:
        sampled = sample(
            committed,
            vocab,
            style="chorale",
            mode="major",
            meter="4/4",
            bars=4,
            params=SamplingParams(seed=seed),
            decoding=decoding,
            shaped=False,  # the draw alone, without the soprano's drawn last note
        )
        return outer_voices_end_on_tonic(decode(sampled.ids, vocab).voices)

    plain = [ends_on_tonic(seed, dataclasses.replace(chorale, cadence=False)) for seed in range(6)]
    cadence = [ends_on_tonic(seed, chorale) for seed in range(6)]
    assert all(c for p, c in zip(plain, cadence, strict=True) if p)
    assert sum(cadence) > sum(plain)
