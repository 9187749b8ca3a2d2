"""`atelier discover …`: replay an interaction log offline, and write the simulator's.

    atelier discover simulate OUT_DIR [--seed 0] [--preset default|heldout]
    atelier discover eval DIR [--json FILE] [--md FILE] [--collaborative als|ease] [--no-tfidf]

Also runnable as `python -m bot.discovery.cli …` (what `make eval-discover` does). The MiniLM
vectors are computed by `python -m models.embed` in its own interpreter and cached, so this process
never loads torch.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from bot.discovery.embedding import MINILM, default_cache, minilm_vectors, tfidf_vectors
from bot.discovery.evaluate import Embedder, evaluate
from bot.discovery.ranking import RankerConfig
from bot.discovery.simulate import PRESETS, simulate, write


@click.group("discover")
def discover_group() -> None:
    """Discovery: evaluate ranking on an interaction log, write a simulated community."""


@discover_group.command("simulate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="default", show_default=True)
def simulate_command(out: Path, seed: int, preset: str) -> None:
    """Write a seeded community's items.jsonl and events.jsonl to OUT."""
    items, events = simulate(PRESETS[preset], seed)
    write(out, items, events)
    members = len({(e["guild"], e["member"]) for e in events})
    click.echo(f"{len(items)} items, {len(events)} events, {members} members → {out}")


@discover_group.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--md", "md_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--collaborative", type=click.Choice(["als", "ease"]), default="als", show_default=True)
@click.option("--embedding", type=click.Choice([MINILM, "tfidf"]), default=MINILM, show_default=True)
@click.option("--tfidf/--no-tfidf", default=True, help="also report content alone with TF-IDF vectors")
@click.option("--diversity", type=float, default=None, help="MMR weight (default: the shipped one)")
@click.option("--exploration", type=float, default=None, help="new creators' share of a page")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None)
def eval_command(
    folder: Path,
    json_out: Path | None,
    md_out: Path | None,
    collaborative: str,
    embedding: str,
    tfidf: bool,
    diversity: float | None,
    exploration: float | None,
    cache: Path | None,
) -> None:
    """Replay the log in FOLDER (items.jsonl, events.jsonl) and print every method's figures."""
    cache_dir = cache or default_cache()

    def minilm(ids: list[str], texts: list[str]):  # type: ignore[no-untyped-def]
        return minilm_vectors(ids, texts, cache_dir)

    def bag(ids: list[str], texts: list[str]):  # type: ignore[no-untyped-def]
        return tfidf_vectors(texts)

    main: Embedder = minilm if embedding == MINILM else bag
    extra: dict[str, Embedder] = {"TF-IDF": bag} if tfidf and embedding == MINILM else {}
    config = RankerConfig()
    if diversity is not None:
        config = replace(config, diversity=diversity)
    if exploration is not None:
        config = replace(config, exploration_share=exploration)
    report = evaluate(
        folder,
        main,
        config=config,
        collaborative=collaborative,
        embedding_name="all-MiniLM-L6-v2" if embedding == MINILM else "TF-IDF",
        extra=extra,
        progress=lambda line: click.echo(line, err=True),
    )
    table = report.table()
    click.echo(table)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if md_out is not None:
        md_out.parent.mkdir(parents=True, exist_ok=True)
        md_out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    discover_group()
