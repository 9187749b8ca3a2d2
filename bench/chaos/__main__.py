"""`python -m bench.chaos [--full] [--repeat N] [--json FILE]` (what `make chaos` runs)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.chaos.faults import FAULTS
from bench.chaos.harness import ChaosOptions, run_chaos
from bench.chaos.table import as_json, render


def main() -> int:
    parser = argparse.ArgumentParser(description="faults injected into the whole stack, and the account")
    parser.add_argument("--full", action="store_true", help="every fault 5 times, three challenges")
    parser.add_argument("--repeat", type=int, help="runs per fault (reduced: 1, full: 5)")
    parser.add_argument("--challenges", type=int, help="challenges alongside the runs (reduced: 1, full: 3)")
    parser.add_argument("--fault", action="append", choices=sorted(FAULTS), help="only these faults")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--artifacts",
        choices=["local", "redis"],
        default="local",
        help="where files live: a shared folder (outlives Redis) or Redis blobs (lost when it restarts)",
    )
    parser.add_argument("--json", type=Path, help="write the outcome here too")
    args = parser.parse_args()
    options = ChaosOptions(
        repeat=args.repeat or (5 if args.full else 1),
        challenges=args.challenges if args.challenges is not None else (3 if args.full else 1),
        settle_s=400.0 if args.full else 150.0,
        seed=args.seed,
        artifacts=args.artifacts,
        faults=tuple(args.fault or FAULTS),
    )
    report = asyncio.run(run_chaos(options))
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(report), indent=2) + "\n")
    return 0 if report.lost == 0 and report.duplicated == 0 and not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
