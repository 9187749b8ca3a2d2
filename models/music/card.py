"""Write the weights folder's MODEL_CARD.md from the recorded figures: `python -m models.music.card`.

Reads training.json (written by train), evaluation.json and evaluation.md (evaluate --json/--md) and
bench.json (bench --json) from the weights folder; every number in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from models.music.corpus import COLLECTIONS
from models.music.train import WEIGHTS_DIR


def _read(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def _stage(record: dict[str, Any], command: str) -> str:
    config = record.get("config", {})
    return (
        f"`{command}`: AdamW, lr {config.get('lr')} (warm-up {config.get('warmup_steps')} steps) cosine to "
        f"{config.get('min_lr')}, {config.get('batch_tokens')} tokens per batch, seed {config.get('seed')}, "
        f"{record.get('steps')} steps ({record.get('train_tokens_seen')} tokens) in {record.get('minutes')} "
        f"minutes on 2 shared CPU cores at nice 15 ({record.get('tokens_per_second')} tokens/s)"
        + (", stopped early by the time cap" if record.get("stopped_early") else "")
        + f"; validation NLL after it {record.get('final_val_nll'):.3f} nats/token."
    )


def _training_lines(folder: Path, training: dict[str, Any]) -> list[str]:
    """One line per training stage (a second stage continues the first at a lower learning rate)."""
    first = _read(folder / "training-stage1.json")
    if first is None:
        return [_stage(training, "python -m models.music.train"), ""]
    config = training.get("config", {})
    second = (
        f"python -m models.music.train --init-from <stage 1> --epochs {config.get('epochs')} "
        f"--lr {config.get('lr')} --min-lr {config.get('min_lr')} --warmup {config.get('warmup_steps')}"
    )
    return [
        "Stage 1 — " + _stage(first, "python -m models.music.train"),
        "",
        "Stage 2 — " + _stage(training, second),
        "",
    ]


def render_card(folder: Path) -> str:
    training = _read(folder / "training.json") or {}
    bench = _read(folder / "bench.json")
    evaluation_md = (folder / "evaluation.md").read_text() if (folder / "evaluation.md").exists() else None
    dataset = training.get("dataset", {})
    config = training.get("config", {})
    shape = config.get("shape", {})
    lines = [
        "# Atelier music model",
        "",
        "A small causal transformer (GPT-2 architecture, `transformers`) that writes folk dance tunes, airs,",
        "folk songs and four-part chorales as compact note tokens, sampled under a bar grammar so that every",
        "bar has exactly the meter's length. AI-generated output is labelled as such in every file.",
        "",
        "## Tokens",
        "",
        "One token per note (pitch × duration) or rest, `BAR` lines, `VOICE_n` markers in four-voice pieces,",
        "and a control prefix `BOS STYLE MODE METER`. Durations are in twelfths of a quarter (sixteenths and",
        "triplets are exact). Pieces are transposed so the tonic is C (the key is an exact shift at render",
        "time); the mode token keeps major/minor/dorian/mixolydian. Tempo is applied at render time.",
        "We did not use miditok's REMI: it spends 3–4 tokens per note (bar, position, pitch, velocity,",
        "duration), while one token per note keeps a 32-bar reel near 300 tokens — the decoding budget on",
        "two CPU cores — and turns the bar-length constraint into a single mask over durations.",
        "",
        "## Data",
        "",
        f"music21's bundled corpus, parsed once (`python -m models.music.data`): {dataset.get('pieces')} pieces, "
        f"{dataset.get('tokens')} tokens after removing exact duplicates.",
        "",
        "| collection | pieces | licence note |",
        "|---|---|---|",
    ]
    by_collection = dataset.get("by_collection", {})
    for collection in COLLECTIONS:
        lines.append(
            f"| {collection.name} | {by_collection.get(collection.name, 0)} | {collection.licence} |"
        )
    lines += [
        "",
        "Styles (from the abc `R:` field, then title words, then 'slow' markings, then the meter; `tune` is",
        "an unlabelled 2/4 or 4/4 dance-collection tune, used for training only): "
        + ", ".join(f"{k} {v}" for k, v in sorted(dataset.get("by_style", {}).items()))
        + ".",
        "",
        "Split (fixed, salted hash of each piece's source id, 90/5/5): "
        + ", ".join(f"{k} {v}" for k, v in sorted(dataset.get("by_split", {}).items()))
        + ". The test split never trains anything. The same tune can appear in two collections with small",
        "differences; only exact duplicates are removed.",
        "",
        "## Model and training",
        "",
        f"GPT-2: {shape.get('n_layer')} layers, {shape.get('n_head')} heads, width {shape.get('n_embd')}, "
        f"context {shape.get('n_positions')}; {training.get('parameters')} parameters.",
        *_training_lines(folder, training),
        "## Evaluation",
        "",
        "`python -m models.music.evaluate` — test-split NLL vs an n-gram baseline (interpolated Witten–Bell)",
        "on the same tokens; generated vs held-out pieces per style (muspy metric definitions, implemented in",
        "numpy; mean ± sd, ✓ when the generated mean is within one real-data sd, OA = overlapping area of",
        "the two distributions); share of generated pieces whose bars all have the meter's length.",
        "",
        evaluation_md or "(not run yet)",
        "",
        "## Speed",
        "",
        "`python -m models.music.bench` (32-bar reel, generated and rendered to OGG + MIDI + PNG):",
        "",
        "```",
        json.dumps(bench, indent=2) if bench else "(not run yet)",
        "```",
        "",
        "## Limits",
        "",
        "Melody-only training data except the chorales; accompaniment is derived from the melody (one diatonic",
        "triad per half bar or bar), not generated. Rare styles (waltz, slip jig) have few examples.",
        "Continuations keep the uploaded tune's detected key (major or minor) and meter.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    (args.weights / "MODEL_CARD.md").write_text(render_card(args.weights))
    print(f"wrote {args.weights / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main()
