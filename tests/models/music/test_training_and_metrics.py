"""Training smoke test (tiny config), the n-gram baseline and the metric definitions."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

from models.music.metrics import (
    empty_beat_rate,
    ends_on_tonic,
    groove_consistency,
    overlap,
    pitch_class_entropy,
    pitch_range,
    polyphony,
    scale_consistency,
)
from models.music.ngram import NGramModel
from models.music.train import TrainConfig, balanced, make_batches, train, windows
from models.music.vocab import Note, Piece, Vocab

from .conftest import TINY_SHAPE, examples_for_training


def test_training_smoke(tiny_weights: Path) -> None:
    record = json.loads((tiny_weights / "training.json").read_text())
    assert record["steps"] >= 3 and (tiny_weights / "model.safetensors").exists()
    first, last = record["history"][0], record["history"][-1]
    assert last["val_nll"] < first["val_nll"] or last["val_nll"] < 6.0
    assert Vocab.load(tiny_weights / "vocab.json").tokens == Vocab().tokens


def test_a_continued_stage_records_the_embedding_of_the_model_it_continues(
    tmp_path: Path, vocab: Vocab
) -> None:
    examples = examples_for_training(vocab)
    first = TrainConfig(
        epochs=1, warmup_steps=1, batch_tokens=512, threads=1, shape=dict(TINY_SHAPE), voices_above=True
    )
    train(examples, first, tmp_path / "one")
    second = replace(first, voices_above=False, init_from=str(tmp_path / "one"))  # the flag left off
    record = train(examples, second, tmp_path / "two")
    assert record["config"]["voices_above"] is True
    assert json.loads((tmp_path / "two" / "config.json").read_text())["upper_gaps"]


def test_windows_are_bar_aligned_and_bounded(vocab: Vocab) -> None:
    ids = examples_for_training(vocab)[0].ids * 3
    for window in windows(ids, vocab, 64):
        assert len(window) <= 64 and window[:4] == ids[:4]
        assert window[4] == vocab.bar or len(window) == 4


def test_batches_respect_token_budget(vocab: Vocab) -> None:
    seqs = [[1] * n for n in range(5, 100, 7)]
    for batch in make_batches(seqs, 200, random.Random(0)):
        assert max(len(s) for s in batch) * len(batch) <= 200 or len(batch) == 1


def test_balanced_epochs_draw_styles_by_a_power_of_their_counts() -> None:
    seqs = [[i] for i in range(100)]
    styles = ["folk song"] * 90 + ["hornpipe"] * 10
    same = balanced(seqs, styles, 1.0, random.Random(0))
    assert sorted(same) == seqs  # power 1: the data as it is
    equal = balanced(seqs, styles, 0.0, random.Random(0))
    assert len(equal) == 100
    hornpipes = [s for s in equal if s[0] >= 90]
    assert len(hornpipes) == 50 and sorted({s[0] for s in hornpipes}) == list(range(90, 100))
    assert all(hornpipes.count(s) == 5 for s in hornpipes)  # each repeated as often as the others
    folk = [s for s in equal if s[0] < 90]
    assert len(folk) == 50 == len({s[0] for s in folk})  # subsampled, none twice
    root = balanced(seqs, styles, 0.5, random.Random(0))
    assert sum(s[0] >= 90 for s in root) == round(100 * 10**0.5 / (90**0.5 + 10**0.5))


def test_a_balanced_stage_trains_and_records_its_power(vocab: Vocab, tmp_path: Path) -> None:
    examples = examples_for_training(vocab)
    examples[0] = replace(examples[0], style="hornpipe")  # one of five training tunes
    config = TrainConfig(
        epochs=1.0, batch_tokens=256, warmup_steps=1, threads=1, shape=dict(TINY_SHAPE), balance=0.0
    )
    record = train(examples, config, tmp_path)
    assert record["config"]["balance"] == 0.0 and record["steps"] >= 1
    assert (tmp_path / "model.safetensors").exists()


def test_ngram_is_a_distribution(vocab: Vocab) -> None:
    seqs = [e.ids for e in examples_for_training(vocab)]
    model = NGramModel(4, len(vocab)).fit(seqs)
    total = sum(model.prob(seqs[0][:6], t) for t in range(len(vocab)))
    assert math.isclose(total, 1.0, rel_tol=1e-6)
    assert model.nll(seqs) < model.nll([list(reversed(s)) for s in seqs])


def test_metric_definitions() -> None:
    scale = [(i * 24, (i + 1) * 24, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    assert scale_consistency(scale) == 1.0
    assert pitch_range(scale) == 12
    chromatic = [(i * 24, (i + 1) * 24, 60 + i) for i in range(12)]
    assert math.isclose(pitch_class_entropy(chromatic), math.log2(12))
    assert empty_beat_rate(scale) == 0.0
    assert empty_beat_rate([(0, 24, 60), (48, 72, 60)]) == 1 / 3
    assert polyphony([(0, 24, 60), (0, 24, 64), (0, 24, 67)]) == 3.0
    assert groove_consistency(scale, 96) == 1.0
    assert math.isclose(overlap([1, 2, 3, 4], [1, 2, 3, 4]), 1.0, rel_tol=1e-6)


def test_ends_on_tonic_reads_the_first_voices_last_note() -> None:
    def piece(*voices: list[int | None]) -> Piece:
        return Piece(
            "chorale", "minor", "4/4", [[Note(12 * i, 12, p) for i, p in enumerate(v)] for v in voices]
        )

    assert ends_on_tonic(piece([62, 60, None]))  # a trailing rest does not count
    assert ends_on_tonic(piece([67, 72]))  # any octave
    assert not ends_on_tonic(piece([60, 62], [48, 48]))  # the first voice decides
    assert not ends_on_tonic(piece([None]))


def test_real_pieces_are_cropped_to_whole_bars(vocab: Vocab) -> None:
    from models.music.evaluate import count_bars, crop_bars

    ids = examples_for_training(vocab)[0].ids  # 9 bars: the pickup bar and 8 more
    assert count_bars(ids, vocab) == 9
    cropped = crop_bars(ids, vocab, 4)
    assert count_bars(cropped, vocab) == 4 and cropped[-1] == vocab.eos
    assert cropped[:-1] == ids[: len(cropped) - 1] and ids[len(cropped) - 1] == vocab.bar
    assert crop_bars(ids, vocab, 32) == ids
