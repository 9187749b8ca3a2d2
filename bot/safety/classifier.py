"""A small character n-gram classifier (multinomial logistic regression), scored in pure Python.

Trained by ``python -m bot.safety.train`` on the training split of ``tests/data/safety/`` only, and
shipped as ``data/classifier.json``; it scores the decoded view of a prompt in tens of microseconds
and needs neither scikit-learn nor torch at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.safety.levels import CLASSIFIER_CATEGORIES, Category, Level
from bot.safety.normalize import tokenize

SAFE = "safe"
NGRAMS = (2, 4)


def features(decoded: str, ngrams: tuple[int, int] = NGRAMS) -> set[str]:
    """Character n-grams of the prompt's tokens joined by single spaces (padded at both ends)."""
    text = " " + " ".join(t.text for t in tokenize(decoded)) + " "
    low, high = ngrams
    return {text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)}


@dataclass(frozen=True, slots=True)
class Prediction:
    """The most likely unsafe category and the probability that the prompt is unsafe at all."""

    category: Category
    unsafe: float


class NgramClassifier:
    """Linear scores per class over binary, L2-normalised n-gram features, then a softmax."""

    def __init__(self, model: dict[str, Any]):
        self.classes: list[str] = model["classes"]
        self.bias = np.asarray(model["bias"], dtype=np.float64)
        grams: dict[str, list[float]] = model["weights"]
        self.index = {gram: i for i, gram in enumerate(grams)}
        self.matrix = np.asarray(list(grams.values()), dtype=np.float64).reshape(
            len(grams), len(self.classes)
        )
        self.ngrams: tuple[int, int] = tuple(model["ngrams"])  # type: ignore[assignment]
        self.thresholds: dict[str, float] = model["thresholds"]
        self.meta: dict[str, Any] = model.get("meta", {})
        self._safe = self.classes.index(SAFE)

    @classmethod
    def load(cls, path: Path | None = None) -> NgramClassifier:
        """The model shipped in the package (or the one at ``path``)."""
        source = path or Path(str(resources.files("bot.safety") / "data" / "classifier.json"))
        return cls(json.loads(source.read_text(encoding="utf-8")))

    def probabilities(self, decoded: str) -> list[float]:
        present = features(decoded, self.ngrams)
        rows = [i for i in map(self.index.get, present) if i is not None]
        scores = self.bias.copy()
        if rows:
            scores += self.matrix[rows].sum(axis=0) / math.sqrt(len(present))
        exps = np.exp(scores - scores.max())
        return [float(p) for p in exps / exps.sum()]

    def predict(self, decoded: str) -> Prediction:
        probs = self.probabilities(decoded)
        unsafe = [(p, c) for p, c in zip(probs, self.classes, strict=True) if c != SAFE]
        best = max(unsafe)
        return Prediction(Category(best[1]), 1.0 - probs[self._safe])

    def judge(self, decoded: str, level: Level) -> Category | None:
        """The category it blocks at ``level``, or None."""
        prediction = self.predict(decoded)
        if prediction.unsafe < self.thresholds[level.value]:
            return None
        return prediction.category if prediction.category in CLASSIFIER_CATEGORIES[level] else None
