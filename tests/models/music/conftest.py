"""Shared fixtures: the vocabulary, hand-made pieces and a tiny model trained in a few steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.music.data import Example
from models.music.tokenizer import encode
from models.music.train import TrainConfig, train
from models.music.vocab import Note, Piece, Vocab

TINY_SHAPE = {"n_layer": 1, "n_head": 2, "n_embd": 32, "n_positions": 128}


@pytest.fixture(scope="session")
def vocab() -> Vocab:
    return Vocab()


def scale_tune(style: str = "reel", meter: str = "4/4", bars: int = 8, offset: int = 0) -> Piece:
    """A simple tune: eighth notes up and down the C major scale, with a pickup."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [Note(36, 6, 67), Note(42, 6, 69)]  # pickup in a 4/4 bar: rest 36 + two eighths
    time = 48
    for i in range(bars * 8):
        notes.append(Note(time, 6, scale[(i + offset) % 8]))
        time += 6
    return Piece(style, "major", meter, [notes])


def examples_for_training(vocab: Vocab) -> list[Example]:
    pieces = [scale_tune(offset=k) for k in range(6)]
    splits = ["train"] * 5 + ["validation"]
    return [
        Example(f"t/{i}", "test", "", p.style, p.mode, p.meter, s, encode(p, vocab))
        for i, (p, s) in enumerate(zip(pieces, splits, strict=True))
    ]


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory, vocab: Vocab) -> Path:
    """A one-layer model trained for a few steps on six scale tunes (enough to exercise everything)."""
    folder = tmp_path_factory.mktemp("tiny-music")
    config = TrainConfig(
        epochs=3, warmup_steps=1, batch_tokens=512, threads=1, eval_every=2, shape=dict(TINY_SHAPE)
    )
    train(examples_for_training(vocab), config, folder)
    return folder
