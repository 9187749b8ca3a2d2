"""The labelled set, and the quality floor on its held-out split (fixed data, not a timing)."""

from __future__ import annotations

import json
from collections import Counter

from bot.safety.checker import PromptChecker
from bot.safety.classifier import NgramClassifier
from bot.safety.dataset import load
from bot.safety.evaluate import GOAL_BENIGN, GOAL_UNSAFE, evaluate, level_table
from bot.safety.levels import Category, Level

from .conftest import DATA


def test_the_labelled_set_has_the_required_shape() -> None:
    examples = load(DATA)
    assert len(examples) >= 300
    splits = Counter(e.split for e in examples)
    assert set(splits) == {"train", "test"} and splits["test"] >= len(examples) / 3
    unsafe = {e.category for e in examples if e.label == "unsafe"}
    assert unsafe == {c.value for c in Category}
    assert {e.language for e in examples} == {"en", "zh"}
    assert any(e.obfuscated and e.label == "unsafe" for e in examples)
    for e in examples:
        assert e.label == ("unsafe" if e.unsafe(Level.STANDARD) else "safe")
    for line in (DATA / "prompts.jsonl").read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) == {
            "text",
            "label",
            "category",
            "unsafe_at",
            "language",
            "obfuscated",
            "split",
        }


def test_held_out_split_meets_the_goal_at_standard(checker: PromptChecker) -> None:
    results = evaluate(checker, load(DATA, split="test"))
    overall = results[Level.STANDARD]["all"]
    report = level_table(results)
    assert overall.unsafe_rate >= GOAL_UNSAFE, report
    assert overall.benign_rate <= GOAL_BENIGN, report


def test_the_classifier_was_trained_on_the_training_split_only() -> None:
    meta = NgramClassifier.load().meta
    train = load(DATA, split="train")
    assert meta["trained_on"].startswith("train split") and f"({len(train)} prompts)" in meta["trained_on"]
