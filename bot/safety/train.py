"""Train the n-gram classifier on the TRAINING split only and write ``bot/safety/data/classifier.json``.

``python -m bot.safety.train`` (needs scikit-learn, a dependency of ``alt-profanity-check``). The
regularisation strength and each level's threshold are chosen by 5-fold cross-validation inside the
training split: the threshold is the lowest at which the classifier alone blocks at most
``--max-benign`` of the benign training prompts out of fold. The held-out split is never read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from bot.safety.classifier import NGRAMS, SAFE, features
from bot.safety.dataset import DEFAULT_DIR, Example, load
from bot.safety.levels import CLASSIFIER_CATEGORIES, Category, Level
from bot.safety.lexicon import Lexicon
from bot.safety.normalize import normalize

OUT = Path(__file__).parent / "data" / "classifier.json"
C_GRID = (1.0, 3.0, 10.0, 30.0)


def target(example: Example) -> str:
    return example.category if example.unsafe(Level.STANDARD) else SAFE


def _fit(x: Any, y: list[str], c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)


def _matrix(texts: list[str]) -> tuple[Any, Any]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.preprocessing import normalize as l2

    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([dict.fromkeys(features(t), 1.0) for t in texts])
    return l2(x), vectorizer


def _blocked(probs: Any, classes: list[str], level: Level, threshold: float) -> list[bool]:
    safe = classes.index(SAFE)
    out = []
    for row in probs:
        unsafe = [(p, c) for p, c in zip(row, classes, strict=True) if c != SAFE]
        best = max(unsafe)[1]
        out.append(1.0 - row[safe] >= threshold and Category(best) in CLASSIFIER_CATEGORIES[level])
    return out


def _threshold(
    probs: Any, classes: list[str], examples: list[Example], level: Level, max_benign: float
) -> float:
    benign = [i for i, e in enumerate(examples) if not e.unsafe(level)]
    for step in range(5, 100):
        t = step / 100
        flags = _blocked(probs, classes, level, t)
        if sum(flags[i] for i in benign) <= max_benign * len(benign):
            return t
    return 0.99


def _recall(probs: Any, classes: list[str], examples: list[Example], level: Level, t: float) -> float:
    flags = _blocked(probs, classes, level, t)
    unsafe = [i for i, e in enumerate(examples) if e.unsafe(level)]
    return sum(flags[i] for i in unsafe) / max(1, len(unsafe))


def train(directory: Path = DEFAULT_DIR, *, max_benign: float = 0.01, seed: int = 0) -> dict[str, Any]:
    """The model as the JSON document :class:`~bot.safety.classifier.NgramClassifier` reads."""
    import numpy as np
    import sklearn
    from sklearn.model_selection import StratifiedKFold

    examples = load(directory, split="train")
    vocabulary = Lexicon.load().vocabulary
    texts = [normalize(e.text, vocabulary=vocabulary).decoded for e in examples]
    y = [target(e) for e in examples]
    x, vectorizer = _matrix(texts)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    best: tuple[float, float, Any, list[str]] | None = None
    report = {}
    for c in C_GRID:
        oof = np.zeros((len(y), len(set(y))))
        classes: list[str] = sorted(set(y))
        for fit_idx, held_idx in folds.split(x, y):
            model = _fit(x[fit_idx], [y[i] for i in fit_idx], c)
            probs = model.predict_proba(x[held_idx])
            for j, cls in enumerate(model.classes_):
                oof[held_idx, classes.index(cls)] = probs[:, j]
        t = _threshold(oof, classes, examples, Level.STANDARD, max_benign)
        score = _recall(oof, classes, examples, Level.STANDARD, t)
        report[str(c)] = {"threshold": t, "cv_unsafe_blocked": round(score, 4)}
        if best is None or score > best[0]:
            best = (score, c, oof, classes)
    assert best is not None
    score, c, oof, classes = best
    thresholds = {level.value: _threshold(oof, classes, examples, level, max_benign) for level in Level}
    model = _fit(x, y, c)
    assert list(model.classes_) == classes
    names = vectorizer.get_feature_names_out()
    coef = model.coef_
    weights = {}
    for j, name in enumerate(names):
        column = coef[:, j]
        if float(np.abs(column).max()) >= 0.01:
            weights[str(name)] = [round(float(w), 3) for w in column]
    data = b"".join(p.read_bytes() for p in sorted(directory.glob("*.jsonl")))
    return {
        "classes": classes,
        "bias": [round(float(b), 4) for b in model.intercept_],
        "ngrams": list(NGRAMS),
        "thresholds": thresholds,
        "weights": weights,
        "meta": {
            "trained_on": f"train split of {directory} ({len(examples)} prompts)",
            "data_sha256": hashlib.sha256(data).hexdigest(),
            "C": c,
            "cv": report,
            "cv_unsafe_blocked_at_standard": round(score, 4),
            "max_benign_blocked_cv": max_benign,
            "scikit_learn": sklearn.__version__,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-benign", type=float, default=0.01)
    args = parser.parse_args()
    model = train(args.data, max_benign=args.max_benign)
    args.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    meta = model["meta"]
    print(
        f"wrote {args.out}: {len(model['weights'])} n-grams, C={meta['C']}, thresholds {model['thresholds']}"
    )
    print(f"cross-validated on the training split: {meta['cv']}")


if __name__ == "__main__":
    main()
