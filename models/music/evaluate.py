"""Evaluate the music model: `python -m models.music.evaluate` (becomes `make eval-music`).

1. Held-out NLL per token on the test split: the transformer vs an n-gram baseline on the same tokens.
2. Per style, N generated pieces vs held-out real pieces: muspy-style metrics (mean ± sd), whether the
   generated mean is within one real-data sd, and the overlapping area of the two distributions.
3. The share of generated pieces whose bars all have the meter's length.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from models.music.compose import STYLE_METERS
from models.music.data import Example, load
from models.music.grammar import bars_well_formed
from models.music.metrics import all_metrics, overlap
from models.music.model import LeanGPT2, load_model
from models.music.ngram import NGramModel
from models.music.sampling import SamplingParams, sample
from models.music.tokenizer import decode
from models.music.train import WEIGHTS_DIR, mean_nll, windows
from models.music.vocab import STYLES, Vocab, bar_steps

log = logging.getLogger(__name__)

METRICS = (
    "pitch_class_entropy",
    "scale_consistency",
    "pitch_range",
    "groove_consistency",
    "empty_beat_rate",
    "polyphony",
)
MIN_REAL = 10


def held_out_nll(folder: Path, examples: list[Example], order: int) -> dict[str, Any]:
    """Test-split NLL (nats/token) of the model and of an order-`order` n-gram fitted on the train split."""
    vocab = Vocab.load(folder / "vocab.json")
    model = load_model(folder)
    limit = model.config.n_positions
    train = [w for e in examples if e.split == "train" for w in windows(e.ids, vocab, limit)]
    test = [w for e in examples if e.split == "test" for w in windows(e.ids, vocab, limit)]
    ngram = NGramModel(order, len(vocab)).fit(train)
    return {
        "test_sequences": len(test),
        "test_tokens": sum(len(s) - 1 for s in test),
        "model_nll": mean_nll(model, test, vocab.pad),
        f"ngram{order}_nll": ngram.nll(test),
    }


def _summary(values: list[float]) -> tuple[float, float]:
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return math.nan, math.nan
    return statistics.fmean(clean), statistics.stdev(clean) if len(clean) > 1 else 0.0


def style_comparison(
    folder: Path, examples: list[Example], per_style: int, bars: int, seed: int
) -> dict[str, Any]:
    """Generated vs held-out real pieces, per style."""
    vocab = Vocab.load(folder / "vocab.json")
    lean = LeanGPT2(load_model(folder))
    results: dict[str, Any] = {}
    well_formed_pieces = total_pieces = 0
    for style in STYLES:
        real = [e for e in examples if e.style == style and e.split == "test"]
        if len(real) < MIN_REAL:
            real += [e for e in examples if e.style == style and e.split == "validation"]
        real_metrics = [all_metrics(decode(e.ids, vocab)) for e in real]
        meter = STYLE_METERS[style]
        modes = [e.mode for e in real] or ["major"]
        gen_metrics = []
        speeds = []
        for i in range(per_style):
            sampled = sample(
                lean,
                vocab,
                style=style,
                mode=modes[i % len(modes)],
                meter=meter,
                bars=bars,
                params=SamplingParams(1.0, 0.95, seed + i),
            )
            good, total = bars_well_formed(sampled.ids, vocab, bar_steps(meter))
            well_formed_pieces += int(good == total == bars)
            total_pieces += 1
            speeds.append(sampled.tokens_per_second)
            gen_metrics.append(all_metrics(decode(sampled.ids, vocab)))
        row: dict[str, Any] = {
            "real_pieces": len(real),
            "generated": per_style,
            "tokens_per_second": statistics.median(speeds),
        }
        for name in METRICS:
            g = [m[name] for m in gen_metrics]
            r = [m[name] for m in real_metrics]
            g_mean, g_sd = _summary(g)
            r_mean, r_sd = _summary(r)
            row[name] = {
                "generated": [g_mean, g_sd],
                "real": [r_mean, r_sd],
                "within_1sd": bool(abs(g_mean - r_mean) <= r_sd) if r else None,
                "overlap": overlap(g, r),
            }
        results[style] = row
    results["bar_length_ok"] = {
        "pieces": total_pieces,
        "all_bars_ok": well_formed_pieces,
        "share": well_formed_pieces / max(total_pieces, 1),
    }
    return results


def format_table(nll: dict[str, Any], styles: dict[str, Any]) -> str:
    """A Markdown report of the evaluation."""
    lines = ["| model | test NLL (nats/token) |", "|---|---|"]
    for key, value in nll.items():
        if key.endswith("_nll"):
            lines.append(f"| {key[:-4]} | {value:.3f} |")
    lines += ["", f"Test tokens: {nll['test_tokens']} in {nll['test_sequences']} sequences.", ""]
    header = "| style | n real | " + " | ".join(METRICS) + " |"
    lines += [header, "|" + "---|" * (len(METRICS) + 2)]
    for style in STYLES:
        row = styles[style]
        cells = []
        for name in METRICS:
            m = row[name]
            flag = "✓" if m["within_1sd"] else "✗"
            cells.append(
                f"{m['generated'][0]:.2f}±{m['generated'][1]:.2f} vs {m['real'][0]:.2f}±{m['real'][1]:.2f} "
                f"{flag} OA {m['overlap']:.2f}"
            )
        lines.append(f"| {style} | {row['real_pieces']} | " + " | ".join(cells) + " |")
    ok = styles["bar_length_ok"]
    lines += [
        "",
        f"Generated pieces with every bar of the meter's length: {ok['all_bars_ok']}/{ok['pieces']} "
        f"({100 * ok['share']:.1f}%).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--per-style", type=int, default=20)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--md", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    started = time.monotonic()
    examples = load()
    nll = held_out_nll(args.weights, examples, args.order)
    torch.set_num_threads(1)
    styles = style_comparison(args.weights, examples, args.per_style, args.bars, args.seed)
    table = format_table(nll, styles) + (
        f"\n\nGenerated: {args.per_style} pieces per style, {args.bars} bars each, temperature 1.0, top-p 0.95, "
        f"seeds {args.seed}–{args.seed + args.per_style - 1}; real: the style's test pieces (plus validation "
        f"pieces when there are fewer than {MIN_REAL}); n-gram order {args.order}."
    )
    print(table)
    if args.md:
        args.md.write_text(table + "\n")
    print(f"\n(evaluation took {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"nll": nll, "styles": styles}, indent=2))


if __name__ == "__main__":
    main()
