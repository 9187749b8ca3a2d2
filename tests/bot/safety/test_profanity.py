"""The pure-Python profanity scorer gives alt-profanity-check's own probabilities."""

from __future__ import annotations

from profanity_check import predict_prob

from bot.safety.checker import PromptChecker
from bot.safety.dataset import load

from .conftest import DATA


def test_scorer_matches_the_package(checker: PromptChecker) -> None:
    assert checker.profanity is not None
    texts = [*(e.text for e in load(DATA)[:200]), "fuck you", "", "!!!", "the the the"]
    expected = predict_prob(texts)
    for text, want in zip(texts, expected, strict=True):
        assert abs(checker.profanity.probability(text) - float(want)) < 1e-9, text
