"""Decoding tables derived from training pieces: onset grids, out-of-scale shares, spans, spacing."""

from __future__ import annotations

from collections import Counter

from models.music.calibrate import (
    event_positions,
    gap_quantile,
    long_notes_per_bar,
    onset_grid,
    out_of_scale_share,
    voice_gaps,
    widest_span,
)
from models.music.sampling import STYLE_DECODING
from models.music.tokenizer import prefix_ids
from models.music.vocab import Vocab, bar_steps


def _piece(vocab: Vocab, bars: list[list[tuple[int | None, int]]]) -> list[int]:
    ids = prefix_ids(vocab, "hornpipe", "major", "2/4")
    for bar in bars:
        ids.append(vocab.bar)
        ids += [vocab.event_id(p, d) for p, d in bar]
    return [*ids, vocab.eos]


def test_event_positions_count_notes_and_rests_per_position(vocab: Vocab) -> None:
    ids = _piece(vocab, [[(None, 12), (60, 6), (62, 6)], [(60, 8), (62, 4), (64, 12)]])
    assert event_positions(ids, vocab) == {0: {0: 2, 12: 2, 18: 1, 8: 1}}


def test_onset_grid_keeps_positions_with_enough_events(vocab: Vocab) -> None:
    swung: list[tuple[int | None, int]] = [(60, 4), (62, 2)] * 4  # positions 0, 4, 6, 10, 12, 16, 18, 22
    stray: list[tuple[int | None, int]] = [
        (60, 1),
        (62, 2),
        (64, 3),
        (65, 6),
        (67, 12),
    ]  # positions 0, 1, 3, 6, 12
    pieces = [_piece(vocab, [swung] * 50), _piece(vocab, [stray])]
    assert onset_grid(pieces, vocab, 24) == (0, 4, 6, 10, 12, 16, 18, 22)
    # with enough stray bars, position 1 holds more than 0.5% of the events and joins the grid
    assert 1 in onset_grid([*pieces, _piece(vocab, [stray] * 5)], vocab, 24)


def _four_voices(vocab: Vocab, bars: list[list[list[tuple[int | None, int]]]]) -> list[int]:
    ids = prefix_ids(vocab, "chorale", "major", "4/4")
    for bar in bars:
        ids.append(vocab.bar)
        for voice, events in zip(vocab.voice_ids, bar, strict=True):
            ids.append(voice)
            ids += [vocab.event_id(p, d) for p, d in events]
    return [*ids, vocab.eos]


def test_event_positions_count_each_voice_apart(vocab: Vocab) -> None:
    quarters: list[tuple[int | None, int]] = [(60, 12)] * 4
    ids = _four_voices(vocab, [[quarters, quarters, [(55, 6), (57, 6), *quarters[1:]], quarters]])
    counts = event_positions(ids, vocab)
    assert sorted(counts) == [0, 1, 2, 3]
    assert counts[0] == {0: 1, 12: 1, 24: 1, 36: 1}
    assert counts[2] == {0: 1, 6: 1, 12: 1, 24: 1, 36: 1}


def test_onset_grid_keeps_a_position_that_one_voice_uses_enough(vocab: Vocab) -> None:
    """The share is taken per voice: an eighth that only the tenor plays counts against the tenor's events."""
    quarters: list[tuple[int | None, int]] = [(60, 12)] * 4
    moving: list[tuple[int | None, int]] = [(55, 6), (57, 6), *quarters[1:]]
    plain = [quarters] * 4
    tenor = [quarters, quarters, moving, quarters]
    # 1 of the tenor's 125 events (0.8%), though 1 of 497 in all voices (0.2%): on the grid
    assert onset_grid([_four_voices(vocab, [plain] * 30 + [tenor])], vocab, 48) == (0, 6, 12, 24, 36)
    # 1 of the tenor's 405 events (0.25%): off the grid
    assert onset_grid([_four_voices(vocab, [plain] * 100 + [tenor])], vocab, 48) == (0, 12, 24, 36)


def test_out_of_scale_share_uses_each_pieces_mode(vocab: Vocab) -> None:
    ids = _piece(vocab, [[(60, 6), (63, 6), (65, 6), (66, 6)]])  # C, Eb, F, F#
    assert out_of_scale_share([("major", ids)], vocab) == 0.5  # Eb and F# are outside C major
    assert out_of_scale_share([("minor", ids)], vocab) == 0.25  # only F# is outside C minor


def test_style_decoding_grids_start_on_the_downbeat_and_fit_their_meter() -> None:
    for decoding in STYLE_DECODING.values():
        for meter, grid in decoding.grids.items():
            assert grid[0] == 0 and list(grid) == sorted(set(grid)) and grid[-1] < bar_steps(meter)


def test_widest_span_is_the_largest_pitch_distance_in_a_piece(vocab: Vocab) -> None:
    narrow = _piece(vocab, [[(60, 12), (None, 6), (67, 6)]])
    wide = _piece(vocab, [[(55, 12), (79, 12)]])
    assert widest_span([narrow, wide], vocab) == 24
    assert widest_span([_piece(vocab, [[(None, 24)]])], vocab) == 0


def test_voice_gaps_count_the_steps_where_both_neighbours_sound(vocab: Vocab) -> None:
    soprano: list[tuple[int | None, int]] = [(72, 24), (None, 12), (74, 12)]
    alto: list[tuple[int | None, int]] = [(60, 12), (67, 12), (None, 12), (62, 12)]
    tenor: list[tuple[int | None, int]] = [(55, 24), (None, 12), (55, 12)]
    bass: list[tuple[int | None, int]] = [(36, 24), (None, 12), (43, 12)]
    gaps = voice_gaps([_four_voices(vocab, [[soprano, alto, tenor, bass]])], vocab)
    assert gaps[0] == Counter({12: 24, 5: 12})  # 72 over 60, 72 over 67, 74 over 62; rests not counted
    assert gaps[1] == Counter({5: 12, 12: 12, 7: 12})
    assert gaps[2] == Counter({19: 24, 12: 12})


def test_gap_quantile_is_the_smallest_gap_enough_steps_stay_within() -> None:
    counts = Counter({5: 90, 12: 9, 20: 1})
    assert gap_quantile(counts, 0.99) == 12
    assert gap_quantile(counts, 0.9) == 5
    assert gap_quantile(counts, 1.0) == 20


def test_long_notes_per_bar_counts_notes_of_a_half_or_more(vocab: Vocab) -> None:
    long_bar: list[tuple[int | None, int]] = [(60, 24), (62, 12), (64, 12)]
    rests: list[tuple[int | None, int]] = [(None, 24), (60, 12), (60, 12)]
    quarters: list[tuple[int | None, int]] = [(60, 12)] * 4
    ids = _four_voices(vocab, [[long_bar, quarters, quarters, [(48, 48)]], [rests] * 4])
    assert long_notes_per_bar([ids], vocab) == 1.0  # two long notes in two bars; a long rest is no note


def test_spread_controls_take_pieces_from_across_the_whole_list() -> None:
    from models.music.calibrate import spread_controls

    controls = [("major", "4/4", bars) for bars in range(10)]
    assert [bars for *_, bars in spread_controls(controls, 5)] == [0, 2, 4, 6, 8]
    assert spread_controls(controls, 10) == controls
    assert spread_controls([], 3) == []
