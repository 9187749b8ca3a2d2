"""`python -m models.embed encode IN.jsonl OUT.npz`: embed `{"id": ..., "text": ...}` lines.

Writes `ids` (strings) and `vectors` (float32, unit length) to OUT.npz. Used by the discovery
evaluation (`atelier discover eval`), which runs it in a separate interpreter so that the bot-side
process never imports torch or sentence-transformers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.embed")
    sub = parser.add_subparsers(dest="command", required=True)
    encode = sub.add_parser("encode", help="embed a JSONL file of {id, text}")
    encode.add_argument("source", type=Path)
    encode.add_argument("out", type=Path)
    encode.add_argument("--batch-size", type=int, default=64)
    encode.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)

    from models.embed.encoder import MODEL_NAME, get_encoder

    ids: list[str] = []
    texts: list[str] = []
    with args.source.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                ids.append(str(record["id"]))
                texts.append(str(record.get("text") or ""))
    began = time.perf_counter()
    vectors = get_encoder(args.threads).encode(texts, batch_size=args.batch_size)
    took = time.perf_counter() - began
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, ids=np.asarray(ids), vectors=vectors, model=np.asarray(MODEL_NAME))
    print(f"embedded {len(ids)} texts with {MODEL_NAME} in {took:.1f} s → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
