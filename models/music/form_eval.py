"""Form, endings, openings, voice leading and novelty of generated pieces against real ones (issue 22).

Part of `make eval-music` (`models.music.evaluate` passes the pieces it generated). Per style:

- **restated run**: the longest run of melody notes heard twice, as a share of the melody's notes
  (`metrics.longest_restated_run`), generated vs the held-out real pieces cropped as in the main table;
  goal: the generated mean within 20% of the real mean.
- **tonic endings**: the melody's last note on the tonic, generated vs the style's *training* pieces
  (whole), mode-matched: generated piece i is compared with the training rate of its own mode (the
  style's rate over all modes when that mode has fewer than MIN_MODE_PIECES); goal: within 10 points.
- **leading silence**: steps of rest before the first note; goal: no generated piece opens with more
  silence than the longest any training piece of the style has in that meter (a pickup's rest).
- **chorales**: parallel fifths and octaves per 100 two-voice moves (`metrics.parallel_perfects`; goal
  at most 1) and the share of notes outside the mode's scale (information).
- **novelty**: pieces sharing a run of RUN_NOTES notes (pitches and durations, any voice) with a
  training piece; goal: none generated. Beside it the held-out real pieces against the training ones,
  and the training pieces against the other training pieces (leave-one-out).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from models.music.harmony import SCALES
from models.music.metrics import (
    chromatic_share,
    ends_on_tonic,
    leading_rest,
    longest_restated_run,
    parallel_perfects,
    piece_run_hashes,
    shared_run_share,
)
from models.music.tokenizer import decode
from models.music.vocab import STYLES, Piece, Vocab

if TYPE_CHECKING:
    from models.music.data import Example

RUN_NOTES = 16
RUN_TOLERANCE = 0.20  # restated run: generated mean within 20% of the real mean
TONIC_POINTS = 0.10  # tonic endings: within 10 points of the training rate
MAX_PARALLELS = 1.0  # per 100 two-voice moves
MIN_MODE_PIECES = 20
FORM_STYLES = ("reel", "jig", "slip jig", "hornpipe", "strathspey", "waltz", "air")  # goal on restatement


@dataclass
class Training:
    """What the goals read off the training split."""

    tonic: dict[str, dict[str, float]]  # style -> mode (and "all") -> rate
    longest_rest: dict[str, dict[str, int]]  # style -> meter -> longest leading rest in steps
    runs: np.ndarray  # sorted unique RUN_NOTES-note run hashes of every training piece
    leave_one_out: list[float] = field(default_factory=list)  # per training piece: share found elsewhere

    def tonic_rate(self, style: str, mode: str) -> float:
        rates = self.tonic.get(style, {})
        return rates.get(mode, rates.get("all", math.nan))


def training_tables(examples: Sequence[Example], vocab: Vocab) -> Training:
    """Tonic-ending rates, longest leading rests and the run hashes of the training split."""
    endings: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    rests: dict[str, dict[str, int]] = defaultdict(dict)
    per_piece: list[np.ndarray] = []
    for example in examples:
        if example.split != "train":
            continue
        piece = decode(example.ids, vocab)
        on_tonic = ends_on_tonic(piece)
        endings[example.style][example.mode].append(on_tonic)
        endings[example.style]["all"].append(on_tonic)
        meters = rests[example.style]
        meters[example.meter] = max(meters.get(example.meter, 0), leading_rest(piece))
        per_piece.append(piece_run_hashes(piece, RUN_NOTES))
    tonic = {
        style: {
            mode: statistics.fmean(values)
            for mode, values in modes.items()
            if mode == "all" or len(values) >= MIN_MODE_PIECES
        }
        for style, modes in endings.items()
    }
    counts = Counter(h for hashes in per_piece for h in hashes.tolist())
    shared = {h for h, count in counts.items() if count > 1}
    loo = [
        sum(h in shared for h in hashes.tolist()) / len(hashes) if len(hashes) else 0.0
        for hashes in per_piece
    ]
    runs = np.array(sorted(counts), dtype=np.uint64)
    return Training(tonic, {s: dict(m) for s, m in rests.items()}, runs, loo)


@dataclass
class Generated:
    """One generated piece and its controls."""

    piece: Piece
    mode: str
    meter: str


def _mean_sd(values: Sequence[float]) -> list[float]:
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return [math.nan, math.nan]
    return [statistics.fmean(clean), statistics.stdev(clean) if len(clean) > 1 else 0.0]


def _novelty(pieces: Sequence[Piece], training: Training) -> dict[str, Any]:
    shares = [shared_run_share(piece_run_hashes(p, RUN_NOTES), training.runs) for p in pieces]
    return _share_summary(shares)


def _share_summary(shares: Sequence[float]) -> dict[str, Any]:
    return {
        "pieces": len(shares),
        "sharing": sum(s > 0 for s in shares),
        "median_share": statistics.median(shares) if shares else math.nan,
        "max_share": max(shares, default=math.nan),
    }


def _parallels(pieces: Sequence[Piece]) -> dict[str, float]:
    counted = [parallel_perfects(p.voices) for p in pieces]
    parallels, moves = sum(c[0] for c in counted), sum(c[1] for c in counted)
    return {"parallels": parallels, "moves": moves, "per_100": 100 * parallels / moves if moves else math.nan}


def style_form(
    style: str, generated: Sequence[Generated], real: Sequence[Piece], training: Training, judged: bool
) -> dict[str, Any]:
    """The figures of one style (see the module doc); `real` are the held-out pieces as cropped."""
    gen_pieces = [g.piece for g in generated]
    runs_gen = _mean_sd([longest_restated_run(p.voices[0]) for p in gen_pieces])
    runs_real = _mean_sd([longest_restated_run(p.voices[0]) for p in real])
    run_ok = abs(runs_gen[0] - runs_real[0]) <= RUN_TOLERANCE * runs_real[0]
    tonic_gen = statistics.fmean(ends_on_tonic(p) for p in gen_pieces) if gen_pieces else math.nan
    tonic_train = statistics.fmean(training.tonic_rate(style, g.mode) for g in generated)
    allowed = training.longest_rest.get(style, {})
    longest = max(allowed.values(), default=0)
    rests = [leading_rest(g.piece) for g in generated]
    over = sum(rest > allowed.get(g.meter, longest) for rest, g in zip(rests, generated, strict=True))
    row: dict[str, Any] = {
        "judged": judged,
        "restated_run": {
            "generated": runs_gen,
            "real": runs_real,
            "goal_met": bool(run_ok) if judged and style in FORM_STYLES else None,
        },
        "tonic_ending": {
            "generated": tonic_gen,
            "training": tonic_train,
            "goal_met": bool(abs(tonic_gen - tonic_train) <= TONIC_POINTS) if judged else None,
        },
        "leading_rest": {
            "generated_mean_steps": statistics.fmean(rests) if rests else math.nan,
            "generated_max_steps": max(rests, default=0),
            "real_mean_steps": statistics.fmean(leading_rest(p) for p in real) if real else math.nan,
            "training_longest_steps": allowed,
            "over": over,
            "goal_met": over == 0,
        },
        "novelty": {"generated": _novelty(gen_pieces, training), "held_out": _novelty(real, training)},
    }
    if style == "chorale":
        gen_parallels, real_parallels = _parallels(gen_pieces), _parallels(real)
        row["parallels"] = {
            "generated": gen_parallels,
            "real": real_parallels,
            "goal_met": bool(gen_parallels["per_100"] <= MAX_PARALLELS),
        }
        row["chromatic"] = {
            "generated": _mean_sd([chromatic_share(g.piece, SCALES[g.mode]) for g in generated]),
            "real": _mean_sd([chromatic_share(p, SCALES[p.mode]) for p in real]),
        }
    return row


def _mark(ok: bool | None) -> str:
    return "" if ok is None else " ✓" if ok else " ✗"


def format_form(results: dict[str, Any], training: Training) -> str:
    """The Markdown section of the evaluation for these figures."""
    lines = [
        "| style | restated run (share of notes) | tonic endings vs training | leading rest (steps): "
        "mean, max vs training's longest | sharing a 16-note run with a training piece |",
        "|---|---|---|---|---|",
    ]
    for style in STYLES:
        row = results[style]
        run, tonic, rest, novelty = (
            row["restated_run"],
            row["tonic_ending"],
            row["leading_rest"],
            row["novelty"],
        )
        longest = ", ".join(f"{m} {s}" for m, s in sorted(rest["training_longest_steps"].items()))
        gen, held = novelty["generated"], novelty["held_out"]
        lines.append(
            f"| {style} | {run['generated'][0]:.3f}±{run['generated'][1]:.3f} vs "
            f"{run['real'][0]:.3f}±{run['real'][1]:.3f}{_mark(run['goal_met'])} | "
            f"{tonic['generated']:.0%} vs {tonic['training']:.0%}{_mark(tonic['goal_met'])} | "
            f"{rest['generated_mean_steps']:.1f}, {rest['generated_max_steps']} ({rest['over']} over) vs "
            f"{longest}{_mark(rest['goal_met'])} | {gen['sharing']}/{gen['pieces']} generated"
            f"{_mark(gen['sharing'] == 0)}; held-out real {held['sharing']}/{held['pieces']} |"
        )
    chorale = results["chorale"]
    par, chroma = chorale["parallels"], chorale["chromatic"]
    loo = training.leave_one_out
    lines += [
        "",
        f"Chorale parallel fifths and octaves: {par['generated']['per_100']:.2f} per 100 two-voice moves "
        f"({par['generated']['parallels']} in {par['generated']['moves']}) vs "
        f"{par['real']['per_100']:.2f} in the held-out chorales ({par['real']['parallels']} in "
        f"{par['real']['moves']}){_mark(par['goal_met'])}; notes outside the mode's scale "
        f"{chroma['generated'][0]:.3f}±{chroma['generated'][1]:.3f} vs {chroma['real'][0]:.3f}±"
        f"{chroma['real'][1]:.3f}.",
        "",
        f"Training pieces sharing a {RUN_NOTES}-note run with another training piece (leave-one-out): "
        f"{sum(s > 0 for s in loo)}/{len(loo)} ({sum(s > 0 for s in loo) / max(len(loo), 1):.0%}); "
        f"median share of their runs found elsewhere {statistics.median(loo) if loo else math.nan:.3f}.",
    ]
    return "\n".join(lines)
