"""``alt-profanity-check``'s model, scored in pure Python.

The package's own ``predict_prob`` takes about 5 ms a call (scikit-learn's per-call overhead); this
reads its TF-IDF vocabulary and its calibrated linear SVMs once and gives the same probability in
a few microseconds, so it fits the bot's per-interaction budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import regex

_TOKEN = regex.compile(r"(?u)\b\w\w+\b")
THRESHOLD = 0.5  # the package's own predict(): the likelier of its two classes


@dataclass(frozen=True, slots=True)
class _Fold:
    intercept: float
    a: float
    b: float


class ProfanityScorer:
    """The probability that text is offensive, as ``profanity_check.predict_prob`` computes it."""

    def __init__(self, terms: dict[str, tuple[float, tuple[float, ...]]], folds: tuple[_Fold, ...]):
        self._terms = terms  # word -> (idf, weight per calibrated fold)
        self._folds = folds

    @classmethod
    def from_package(cls) -> ProfanityScorer:
        """Read the model shipped in ``alt-profanity-check`` (imports scikit-learn once, a few seconds)."""
        from profanity_check import profanity_check as package

        return cls.from_model(package.vectorizer, package.model)

    @classmethod
    def from_model(cls, vectorizer: Any, model: Any) -> ProfanityScorer:
        """From a fitted ``TfidfVectorizer`` and binary ``CalibratedClassifierCV`` of linear models."""
        folds, weights = [], []
        for calibrated in model.calibrated_classifiers_:
            (calibrator,) = calibrated.calibrators
            estimator = calibrated.estimator
            folds.append(_Fold(float(estimator.intercept_[0]), float(calibrator.a_), float(calibrator.b_)))
            weights.append(estimator.coef_[0])
        terms = {
            word: (float(vectorizer.idf_[j]), tuple(float(w[j]) for w in weights))
            for word, j in vectorizer.vocabulary_.items()
        }
        return cls(terms, tuple(folds))

    def probability(self, text: str) -> float:
        """0..1; at least :data:`THRESHOLD` means offensive."""
        counts: dict[str, int] = {}
        for token in _TOKEN.findall(text.lower()):
            if token in self._terms:
                counts[token] = counts.get(token, 0) + 1
        decisions = [f.intercept for f in self._folds]
        if counts:
            values = {t: c * self._terms[t][0] for t, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in values.values()))
            for token, value in values.items():
                x = value / norm
                for k, w in enumerate(self._terms[token][1]):
                    decisions[k] += x * w
        total = 0.0
        for fold, decision in zip(self._folds, decisions, strict=True):
            z = fold.a * decision + fold.b
            total += 1.0 / (1.0 + math.exp(z)) if z > -700 else 1.0
        return total / len(self._folds)

    def offensive(self, text: str) -> bool:
        return self.probability(text) >= THRESHOLD
