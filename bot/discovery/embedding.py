"""Embeddings for the evaluation, computed without loading a model into this process.

MiniLM runs in its own interpreter (`python -m models.embed encode`), like the CLI's worker-side
commands, and its vectors are cached by the texts' hash. TF-IDF (scikit-learn, no torch) is computed
here, as the reference a plain bag of words reaches.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MINILM = "minilm"
TFIDF = "tfidf"


def default_cache() -> Path:
    return Path(os.environ.get("ATELIER_DISCOVER_CACHE", Path.home() / ".cache" / "atelier" / "discover"))


def minilm_vectors(ids: Sequence[str], texts: Sequence[str], cache: Path | None = None) -> np.ndarray:
    """all-MiniLM-L6-v2 vectors for `texts` (rows in order), from the cache or a subprocess."""
    digest = hashlib.sha256()
    for item_id, text in zip(ids, texts, strict=True):
        digest.update(item_id.encode() + b"\0" + text.encode() + b"\n")
    folder = cache or default_cache()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"minilm-{digest.hexdigest()[:24]}.npz"
    if not target.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "texts.jsonl"
            with source.open("w", encoding="utf-8") as f:
                for item_id, text in zip(ids, texts, strict=True):
                    f.write(json.dumps({"id": item_id, "text": text}) + "\n")
            env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
            partial = target.with_suffix(".partial.npz")
            subprocess.run(
                [sys.executable, "-m", "models.embed", "encode", str(source), str(partial)],
                check=True,
                env=env,
            )
            partial.replace(target)
    with np.load(target) as data:
        if [str(i) for i in data["ids"]] != list(ids):
            raise RuntimeError(f"{target}: cached ids do not match; delete it and run again")
        return np.asarray(data["vectors"], dtype=np.float32)


def tfidf_vectors(texts: Sequence[str], max_features: int = 4096) -> np.ndarray:
    """Unit-length TF-IDF vectors (dense: a community's vocabulary is small)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(max_features=max_features, sublinear_tf=True).fit_transform(list(texts))
    dense = np.asarray(matrix.toarray(), dtype=np.float32)
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.asarray(dense / np.maximum(norms, 1e-9), dtype=np.float32)
