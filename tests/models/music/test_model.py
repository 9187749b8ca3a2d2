"""The network: metrical positions, saving and loading, and the lean forward."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import GPT2LMHeadModel

from models.music.model import (
    BAR_POSITIONS,
    LeanGPT2,
    MetricalGPT2,
    bar_positions,
    build_config,
    build_model,
    load_model,
    position_tables,
    upper_gaps,
)
from models.music.tokenizer import prefix_ids
from models.music.vocab import Vocab

from .conftest import TINY_SHAPE


def _chorale_bar(vocab: Vocab) -> list[int]:
    """One 4/4 bar in four voices: quarters in the soprano, a half and two quarters below."""
    soprano = [vocab.event_id(72, 12)] * 4
    alto = [vocab.event_id(67, 24), vocab.event_id(65, 12), vocab.event_id(64, 12)]
    return [vocab.bar, vocab.voice_ids[0], *soprano, vocab.voice_ids[1], *alto]


def test_positions_count_steps_since_the_bar_or_voice_marker(vocab: Vocab) -> None:
    ids = prefix_ids(vocab, "chorale", "major", "4/4") + _chorale_bar(vocab) + [vocab.eos]
    positions = bar_positions(torch.tensor([ids]), *position_tables(vocab))[0].tolist()
    assert positions == [0, 0, 0, 0, 0, 0, 12, 24, 36, 48, 0, 24, 36, 48, 48]


def test_positions_are_clamped_to_the_table(vocab: Vocab) -> None:
    ids = [vocab.bar] + [vocab.event_id(60, 72)] * 3
    positions = bar_positions(torch.tensor([ids]), *position_tables(vocab))[0].tolist()
    assert positions == [0, 72, BAR_POSITIONS - 1, BAR_POSITIONS - 1]


def test_upper_gaps_count_steps_to_the_next_event_of_the_voices_above(vocab: Vocab) -> None:
    ids = prefix_ids(vocab, "chorale", "major", "4/4") + _chorale_bar(vocab) + [vocab.eos]
    gaps = upper_gaps(torch.tensor([ids]), vocab)[0].tolist()
    # prefix, bar line, soprano (no voice above): 0; the alto sees the soprano's quarters ahead of it
    assert gaps == [0] * 10 + [12, 12, 12, 0, 0]
    one_voice = [*prefix_ids(vocab, "reel", "major", "4/4"), vocab.bar, vocab.event_id(60, 24)]
    assert upper_gaps(torch.tensor([one_voice]), vocab)[0].tolist() == [0] * 6


@pytest.mark.parametrize("voices_above", [False, True])
def test_saved_model_gives_the_same_logits(tmp_path: Path, vocab: Vocab, voices_above: bool) -> None:
    model = build_model(vocab, seed=3, voices_above=voices_above, **TINY_SHAPE).eval()
    ids = torch.tensor([prefix_ids(vocab, "chorale", "minor", "4/4") + _chorale_bar(vocab) * 2])
    with torch.no_grad():
        before = model(input_ids=ids).logits
    model.save_pretrained(str(tmp_path))
    loaded = load_model(tmp_path)
    assert isinstance(loaded, MetricalGPT2)
    assert (loaded.upper_gap is not None) == voices_above
    with torch.no_grad():
        assert torch.equal(loaded(input_ids=ids).logits, before)


def test_voices_above_embedding_changes_a_lower_voices_prediction(vocab: Vocab) -> None:
    model = build_model(vocab, seed=3, voices_above=True, **TINY_SHAPE).eval()
    ids = torch.tensor([prefix_ids(vocab, "chorale", "major", "4/4") + _chorale_bar(vocab)])
    with torch.no_grad():
        with_gaps = model(input_ids=ids).logits
        model.upper_gap.weight[1:] = 0.0  # forget every gap but 0 ("no voice above")
        without = model(input_ids=ids).logits
    assert torch.equal(with_gaps[0, :10], without[0, :10])  # prefix, bar line and soprano: gap 0
    assert not torch.allclose(with_gaps[0, 10:13], without[0, 10:13])  # the alto sees the soprano


def test_position_embedding_changes_the_prediction(vocab: Vocab) -> None:
    model = build_model(vocab, seed=3, **TINY_SHAPE).eval()
    ids = torch.tensor([prefix_ids(vocab, "reel", "major", "4/4") + _chorale_bar(vocab)[:6]])
    with torch.no_grad():
        with_positions = model(input_ids=ids).logits
        torch.nn.init.zeros_(model.bar_position.weight)
        without = model(input_ids=ids).logits
    assert not torch.allclose(with_positions, without)


@pytest.mark.parametrize("voices_above", [False, True])
def test_lean_forward_keeps_the_bar_clock_across_calls_and_resets(vocab: Vocab, voices_above: bool) -> None:
    model = build_model(vocab, seed=5, voices_above=voices_above, **TINY_SHAPE).eval()
    ids = prefix_ids(vocab, "chorale", "major", "4/4") + _chorale_bar(vocab) * 3
    with torch.no_grad():
        reference = model(input_ids=torch.tensor([ids])).logits[0]
    lean = LeanGPT2(model)
    for _ in range(2):  # the second pass checks that reset() restarts the clock
        lean.reset()
        out = lean.forward(ids[:7])
        assert torch.allclose(out, reference[6], atol=1e-5)
        for j in range(7, len(ids)):
            out = lean.forward([ids[j]])
        assert torch.allclose(out, reference[-1], atol=1e-5)


def test_weights_without_positions_still_load_as_plain_gpt2(tmp_path: Path, vocab: Vocab) -> None:
    config = build_config(vocab, **TINY_SHAPE)
    del config.bar_positions
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(str(tmp_path))
    plain = load_model(tmp_path)
    assert type(plain) is GPT2LMHeadModel
    ids = prefix_ids(vocab, "reel", "major", "4/4") + _chorale_bar(vocab)
    with torch.no_grad():
        reference = plain(input_ids=torch.tensor([ids])).logits[0, -1]
    assert torch.allclose(LeanGPT2(plain).forward(ids), reference, atol=1e-5)
