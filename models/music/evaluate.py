"""Evaluate the music model: `python -m models.music.evaluate` (becomes `make eval-music`).

1. Held-out NLL per token on the test split: the transformer vs an n-gram baseline on the same tokens.
2. Per style, N generated pieces vs held-out real pieces: muspy-style metrics (mean ± sd), whether the
   generated mean is within one real-data sd, and the overlapping area of the two distributions.
   Generated piece i has the controls (mode, meter) and the length in bars of real piece i mod n, and
   real pieces are cropped to the same bar cap, so both sides are measured on the same kind of excerpt
   (length and meter change pitch range, empty-beat rate and groove consistency by themselves).
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
from models.music.form_eval import Generated, format_form, style_form, training_tables
from models.music.grammar import bars_well_formed
from models.music.metrics import all_metrics, ends_on_tonic, leading_rest, overlap
from models.music.model import LeanGPT2, load_model
from models.music.ngram import NGramModel
from models.music.sampling import SamplingParams, sample
from models.music.tokenizer import decode
from models.music.train import WEIGHTS_DIR, mean_nll, windows
from models.music.vocab import STYLES, Piece, Vocab, bar_steps

log = logging.getLogger(__name__)

METRICS = (
    "pitch_class_entropy",
    "scale_consistency",
    "pitch_range",
    "groove_consistency",
    "empty_beat_rate",
    "polyphony",
)
MIN_REAL = 10  # fewer held-out pieces than this (test, plus validation if needed): too few to judge
MIN_OVERLAP = 0.7
MAX_BARS = 32  # real pieces are cropped to their first 32 bars (generated ones take those lengths)


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


def reference_set(examples: list[Example], style: str, split: str = "test") -> list[Example]:
    """The held-out real pieces of a style: its `split` pieces, plus validation ones when too few."""
    real = [e for e in examples if e.style == style and e.split == split]
    if len(real) < MIN_REAL and split == "test":
        real += [e for e in examples if e.style == style and e.split == "validation"]
    return real


def crop_bars(ids: list[int], vocab: Vocab, bars: int) -> list[int]:
    """The control prefix and the first `bars` bars of a token sequence (then EOS)."""
    out: list[int] = []
    seen = 0
    for token in ids:
        if token == vocab.eos:
            break
        if token == vocab.bar:
            seen += 1
            if seen > bars:
                break
        out.append(token)
    return [*out, vocab.eos]


def count_bars(ids: list[int], vocab: Vocab) -> int:
    return sum(1 for token in ids if token == vocab.bar)


def full_bars(ids: list[int], vocab: Vocab) -> int:
    """A piece's bars as a musician counts them: its token bars less a pickup bar (a leading rest)."""
    piece = decode(ids, vocab)
    pickup = 0 < leading_rest(piece) < bar_steps(piece.meter)
    return count_bars(ids, vocab) - int(pickup)


def piece_controls(
    real: list[Example], cropped: list[list[int]], vocab: Vocab, *, shaped: bool = True
) -> list[tuple[str, str, int]]:
    """(mode, meter, bars) of each real piece as cropped: what generated piece i takes from piece i mod n.

    `bars` are its full bars (what `sample` counts, shaped), or its token bars (`shaped=False`, how
    pieces were decoded before issue 22, with a pickup counted as a bar)."""
    count = full_bars if shaped else count_bars
    return [(e.mode, e.meter, count(ids, vocab)) for e, ids in zip(real, cropped, strict=True)]


def style_comparison(
    folder: Path,
    examples: list[Example],
    per_style: int,
    max_bars: int,
    seed: int,
    split: str = "test",
    decoding: SamplingParams | None = None,
    keep: dict[str, tuple[list[Generated], list[Piece]]] | None = None,
    shaped: bool = True,
) -> dict[str, Any]:
    """Generated vs held-out real pieces, per style (controls and lengths matched, see the module doc).

    `decoding`: temperature and top-p (its seed is ignored); default: the product's defaults. `keep`, if
    given, receives per style the generated pieces (with their controls) and the real ones as cropped.
    `shaped=False`: decoded as before issue 22 (no form, openings or drawn endings).
    """
    vocab = Vocab.load(folder / "vocab.json")
    lean = LeanGPT2(load_model(folder))
    results: dict[str, Any] = {}
    well_formed_pieces = total_pieces = 0
    for style in STYLES:
        real = reference_set(examples, style, split)
        cropped = [crop_bars(e.ids, vocab, max_bars) for e in real]
        real_pieces = [decode(ids, vocab) for ids in cropped]
        real_metrics = [all_metrics(piece) for piece in real_pieces]
        # controls and length of real piece i mod n (the style's usual meter when there is no reference)
        controls = piece_controls(real, cropped, vocab, shaped=shaped) or [
            ("major", STYLE_METERS[style], min(16, max_bars))
        ]
        chosen = decoding or SamplingParams()
        gen_metrics = []
        kept: list[Generated] = []
        gen_tonic_endings = 0
        speeds = []
        for i in range(per_style):
            mode, meter, bars = controls[i % len(controls)]
            sampled = sample(
                lean,
                vocab,
                style=style,
                mode=mode,
                meter=meter,
                bars=bars,
                params=SamplingParams(chosen.temperature, chosen.top_p, seed + i),
                shaped=shaped,
            )
            good, total = bars_well_formed(sampled.ids, vocab, bar_steps(meter))
            well_formed_pieces += int(good == total == bars + int(sampled.upbeat > 0))
            total_pieces += 1
            speeds.append(sampled.tokens_per_second)
            generated = decode(sampled.ids, vocab)
            gen_metrics.append(all_metrics(generated))
            gen_tonic_endings += ends_on_tonic(generated)
            kept.append(Generated(generated, mode, meter))
        if keep is not None:
            keep[style] = (kept, real_pieces)
        judged = len(real) >= MIN_REAL
        row: dict[str, Any] = {
            "real_pieces": len(real),
            "judged": judged,
            "generated": per_style,
            "temperature": chosen.temperature,
            "top_p": chosen.top_p,
            "tokens_per_second": statistics.median(speeds),
            # the melody's last note on the tonic: real pieces whole (not cropped), generated ones as made
            "tonic_ending": {
                "generated": gen_tonic_endings / per_style,
                "real": statistics.fmean(ends_on_tonic(decode(e.ids, vocab)) for e in real)
                if real
                else math.nan,
            },
        }
        for name in METRICS:
            g = [m[name] for m in gen_metrics]
            r = [m[name] for m in real_metrics]
            g_mean, g_sd = _summary(g)
            r_mean, r_sd = _summary(r)
            within = bool(abs(g_mean - r_mean) <= r_sd) if judged else None
            area = overlap(g, r)
            row[name] = {
                "generated": [g_mean, g_sd],
                "real": [r_mean, r_sd],
                "within_1sd": within,
                "overlap": area,
                "goal_met": bool(within and area >= MIN_OVERLAP) if judged else None,
            }
        results[style] = row
        log.info("%s: %d real, %d generated", style, len(real), per_style)
    results["bar_length_ok"] = {
        "pieces": total_pieces,
        "all_bars_ok": well_formed_pieces,
        "share": well_formed_pieces / max(total_pieces, 1),
    }
    return results


def _overlap_text(area: float) -> str:
    """Two decimals, cut rather than rounded: an overlap of 0.6999 misses the goal and reads 0.69."""
    return "nan" if math.isnan(area) else f"{math.floor(area * 100) / 100:.2f}"


def _cell(m: dict[str, Any], judged: bool) -> str:
    figures = (
        f"{m['generated'][0]:.2f}±{m['generated'][1]:.2f} vs {m['real'][0]:.2f}±{m['real'][1]:.2f}, "
        f"OA {_overlap_text(m['overlap'])}"
    )
    if not judged:
        return figures + " (n/a)"
    if m["goal_met"]:
        return figures + " ✓"
    missed = [
        label for label, ok in (("mean", m["within_1sd"]), ("OA", m["overlap"] >= MIN_OVERLAP)) if not ok
    ]
    return figures + " ✗ " + "+".join(missed)


def format_table(nll: dict[str, Any], styles: dict[str, Any]) -> str:
    """A Markdown report of the evaluation."""
    lines = ["| model | test NLL (nats/token) |", "|---|---|"]
    for key, value in nll.items():
        if key.endswith("_nll"):
            lines.append(f"| {key[:-4]} | {value:.3f} |")
    lines += ["", f"Test tokens: {nll['test_tokens']} in {nll['test_sequences']} sequences.", ""]
    lines += [
        "Cells: generated mean±sd vs real mean±sd, OA = overlapping area of the two distributions; "
        f"✓ when the generated mean is within one real-data sd **and** OA ≥ {MIN_OVERLAP} (the goal; OA is "
        "shown cut to two decimals, not rounded), "
        "✗ with the part that misses; n/a when the style has fewer than "
        f"{MIN_REAL} held-out pieces (too few to judge).",
        "",
    ]
    header = "| style | n real | " + " | ".join(METRICS) + " |"
    lines += [header, "|" + "---|" * (len(METRICS) + 2)]
    met = judged_cells = 0
    for style in STYLES:
        row = styles[style]
        cells = [_cell(row[name], row["judged"]) for name in METRICS]
        if row["judged"]:
            judged_cells += len(METRICS)
            met += sum(bool(row[name]["goal_met"]) for name in METRICS)
        n_real = str(row["real_pieces"]) + ("" if row["judged"] else " (too few to judge)")
        lines.append(f"| {style} | {n_real} | " + " | ".join(cells) + " |")
    ok = styles["bar_length_ok"]
    endings = ", ".join(
        f"{style} {styles[style]['tonic_ending']['generated']:.0%} "
        f"(real {styles[style]['tonic_ending']['real']:.0%})"
        for style in STYLES
        if "tonic_ending" in styles[style]
    )
    lines += [
        "",
        f"Goal met in {met} of {judged_cells} judged cells.",
        "",
        f"Pieces whose melody (chorales: soprano) ends on the tonic, generated (real, whole pieces): {endings}.",
        "",
        f"Generated pieces with every bar of the meter's length: {ok['all_bars_ok']}/{ok['pieces']} "
        f"({100 * ok['share']:.1f}%).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--per-style", type=int, default=100)
    parser.add_argument(
        "--max-bars", type=int, default=MAX_BARS, help="real pieces are cropped to this many bars"
    )
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--temperature", type=float, default=SamplingParams.temperature)
    parser.add_argument("--top-p", type=float, default=SamplingParams.top_p)
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "validation"),
        help="reference pieces (validation: tuning)",
    )
    parser.add_argument("--no-nll", action="store_true", help="skip the NLL part (tuning runs)")
    parser.add_argument(
        "--unshaped", action="store_true", help="decode as before issue 22: no form, openings or endings"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--md", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    started = time.monotonic()
    examples = load()
    nll = (
        {"test_sequences": 0, "test_tokens": 0}
        if args.no_nll
        else held_out_nll(args.weights, examples, args.order)
    )
    torch.set_num_threads(1)
    decoding = SamplingParams(args.temperature, args.top_p)
    kept: dict[str, tuple[list[Generated], list[Piece]]] = {}
    styles = style_comparison(
        args.weights,
        examples,
        args.per_style,
        args.max_bars,
        args.seed,
        args.split,
        decoding,
        kept,
        not args.unshaped,
    )
    training = training_tables(examples, Vocab.load(args.weights / "vocab.json"))
    form = {style: style_form(style, *kept[style], training, styles[style]["judged"]) for style in STYLES}
    reference = (
        f"the style's test pieces (plus validation pieces when there are fewer than {MIN_REAL})"
        if args.split == "test"
        else "the style's validation pieces"
    )
    table = format_table(nll, styles) + (
        f"\n\nGenerated: {args.per_style} pieces per style, temperature {args.temperature}, top-p {args.top_p}, "
        + (
            "decoded as before issue 22 (`--unshaped`: no form, openings or drawn endings), "
            if args.unshaped
            else "each style decoded as /compose decodes it (sampling.STYLE_DECODING, form `auto`), "
        )
        + f"seeds {args.seed}–{args.seed + args.per_style - 1}; generated piece i takes the mode, meter and "
        f"number of {'token' if args.unshaped else 'full'} bars of real piece i mod n"
        + ("" if args.unshaped else " (a pickup bar not counted; a generated pickup adds one)")
        + f". Real: {reference}, each cropped to its first {args.max_bars} "
        f"bars. Both sides are measured the same way: melody only (no accompaniment), chorales four voices, "
        f"on the bar grid of the piece's meter (a pickup's leading rest counts on both sides); "
        f"n-gram order {args.order}."
    )
    table += "\n\n## Form, endings, openings, voice leading, novelty\n\n" + format_form(form, training)
    table += (
        "\n\nRestated run: generated mean within 20% of the held-out real mean (judged dance-collection "
        "styles); tonic endings: within 10 points of the training pieces' rate, mode by mode; leading rest: "
        "no generated piece opens with more rest than the longest of the style's training pieces in its "
        "meter; chorale parallels: at most 1 per 100 two-voice moves; no generated piece shares a run of "
        "16 notes with a training piece (`models/music/form_eval.py`)."
    )
    print(table)
    if args.md:
        args.md.write_text(table + "\n")
    print(f"\n(evaluation took {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"nll": nll, "styles": styles, "form": form}, indent=2))


if __name__ == "__main__":
    main()
