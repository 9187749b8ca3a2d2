"""Build the cached token dataset from music21's corpus: `python -m models.music.data`.

Each piece is tokenized once, exact duplicates (same music tokens) are dropped, and a fixed, seeded
split by piece assigns train/validation/test (90/5/5). The test split never trains anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from models.music.tokenizer import encode
from models.music.vocab import Vocab

log = logging.getLogger(__name__)

SPLIT_SALT = "atelier-music-split-v1"
DATASET_NAME = "dataset-v1.json"


def cache_dir() -> Path:
    """Where the dataset lives (git-ignored): $ATELIER_MUSIC_CACHE or ~/.cache/atelier/music."""
    return Path(os.environ.get("ATELIER_MUSIC_CACHE", Path.home() / ".cache" / "atelier" / "music"))


def split_of(source_id: str) -> str:
    """The fixed split of a piece, from a salted hash of its source id."""
    bucket = int(hashlib.sha256(f"{SPLIT_SALT}:{source_id}".encode()).hexdigest(), 16) % 100
    return "train" if bucket < 90 else "validation" if bucket < 95 else "test"


@dataclass
class Example:
    """One tokenized piece of the dataset."""

    source: str
    collection: str
    title: str
    style: str
    mode: str
    meter: str
    split: str
    ids: list[int]


def build(include_han: bool = True, include_essen: bool = True) -> list[Example]:
    """Tokenize the corpus (deduplicated), with each piece's split."""
    from models.music.corpus import iter_pieces  # the parser's dependencies are needed only here

    vocab = Vocab()
    seen: set[bytes] = set()
    examples: list[Example] = []
    started = time.monotonic()
    for count, (source, piece) in enumerate(
        iter_pieces(include_han=include_han, include_essen=include_essen), 1
    ):
        ids = encode(piece, vocab)
        digest = hashlib.sha1(json.dumps(ids[4:]).encode()).digest()
        if digest in seen:
            continue
        seen.add(digest)
        examples.append(
            Example(
                source,
                piece.collection,
                piece.title,
                piece.style,
                piece.mode,
                piece.meter,
                split_of(source),
                ids,
            )
        )
        if count % 1000 == 0:
            log.info("%d pieces read, %d kept (%.0f s)", count, len(examples), time.monotonic() - started)
    return examples


def save(examples: list[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([e.__dict__ for e in examples]))
    tmp.replace(path)


def load(path: Path | None = None) -> list[Example]:
    """The cached dataset (build it first with `python -m models.music.data`)."""
    path = path or cache_dir() / DATASET_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `python -m models.music.data` first")
    return [Example(**row) for row in json.loads(path.read_text())]


def summary(examples: list[Example]) -> dict[str, object]:
    """Counts per collection, style and split, and token totals (for the model card)."""
    return {
        "pieces": len(examples),
        "tokens": sum(len(e.ids) for e in examples),
        "by_collection": dict(Counter(e.collection for e in examples)),
        "by_style": dict(Counter(e.style for e in examples)),
        "by_split": dict(Counter(e.split for e in examples)),
        "train_tokens": sum(len(e.ids) for e in examples if e.split == "train"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-han", action="store_true", help="leave out Essen's Han Chinese collections")
    parser.add_argument(
        "--no-essen", action="store_true", help="leave out every Essen collection (licence unclear)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    examples = build(include_han=not args.no_han, include_essen=not args.no_essen)
    path = args.out or cache_dir() / DATASET_NAME
    save(examples, path)
    stats = summary(examples)
    (path.parent / "dataset-summary.json").write_text(json.dumps(stats, indent=2))
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
