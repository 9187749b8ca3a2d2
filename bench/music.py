"""Speed benchmark: `python -m bench.music` — a 32-bar tune generated and rendered to OGG.

Prints the median wall time (decode + MIDI + FluidSynth + OGG + PNG), decode tokens/s and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import torch

from models.music.artifacts import render_all
from models.music.compose import MusicModel, Request
from models.music.train import WEIGHTS_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bars", type=int, default=32)
    parser.add_argument("--style", default="reel")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = MusicModel(args.weights)
    record = {"job_id": "bench", "model": "atelier-music", "seed": 0, "parameters": {}}
    render_all(model.compose(Request(style=args.style, bars=4, seed=0)), "warm-up", record)
    totals, decode, speeds = [], [], []
    for run in range(args.runs):
        started = time.perf_counter()
        composition = model.compose(Request(style=args.style, bars=args.bars, seed=run))
        render_all(composition, "bench", record)
        totals.append(time.perf_counter() - started)
        decode.append(composition.sampled.seconds)
        speeds.append(composition.sampled.tokens_per_second)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "style": args.style,
        "bars": args.bars,
        "runs": args.runs,
        "threads": args.threads,
        "median_total_s": round(statistics.median(totals), 3),
        "max_total_s": round(max(totals), 3),
        "median_decode_s": round(statistics.median(decode), 3),
        "median_tokens_per_s": round(statistics.median(speeds), 1),
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
