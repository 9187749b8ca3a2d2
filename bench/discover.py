"""`make bench` (discovery part): /discover for a server with 100,000 items and 10,000 members.

Builds one server's state as the bot holds it (bot/discovery: the catalogue, members' histories,
popularity, the faiss HNSW index added to item by item, an implicit ALS fit), then times a page of
`/discover` (the served path: candidates from each part, sampled standardisation, MMR and the new
creators' slot) and "more like this" for random members, a tenth of them with no history. Reports
the build times, memory, the index's recall against exact search, and p50/p95/p99.

Embeddings are synthetic (unit vectors around 300 topic centres, as MiniLM's cluster by subject)
and so are tastes; the point is the cost at this size, not the ranking quality (`make
eval-discover` measures that). Goal (issue 18): p99 ≤ 50 ms on 2 cores.

    python -m bench.discover [--items 100000] [--members 10000] [--queries 1000] [--json FILE]
    python -m bench.discover --items 1000000        # the documented 1M run (docs/discover.md)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.discovery.catalogue import Community
from bot.discovery.collaborative import ALSModel, ALSParams
from bot.discovery.index import AnnIndex
from bot.discovery.ranking import Ranker, RankerConfig, Request

DAY = 86400.0
DIM = 384


def rss_mib() -> float:
    try:
        import psutil

        return float(psutil.Process(os.getpid()).memory_info().rss) / 2**20
    except ImportError:  # pragma: no cover
        return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def synthetic_vectors(
    rng: np.random.Generator, n: int, topics: np.ndarray, topic_of: np.ndarray
) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        noise = rng.normal(scale=0.045, size=(stop - start, DIM)).astype(np.float32)
        block = topics[topic_of[start:stop]] + noise
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def run(items: int, members: int, queries: int, per_member: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    now = 200 * DAY
    figures: dict[str, Any] = {"items": items, "members": members}
    base = rss_mib()

    # --- the catalogue -----------------------------------------------------------------------
    began = time.perf_counter()
    n_topics = 300
    topics = rng.normal(size=(n_topics, DIM)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    topic_of = rng.integers(n_topics, size=items)
    vectors = synthetic_vectors(rng, items, topics, topic_of)
    times = np.sort(rng.uniform(now - 180 * DAY, now, size=items))
    creators = rng.integers(members // 4, size=items) + 1
    nsfw = rng.random(items) < 0.03
    community = Community(1)
    for i in range(items):
        community.add_item(
            f"i{i}", int(creators[i]), ("music", "image", "text")[i % 3], bool(nsfw[i]), float(times[i])
        )
    figures["catalogue_s"] = time.perf_counter() - began

    began = time.perf_counter()
    index = AnnIndex()
    for start in range(0, items, 10_000):  # as embeddings arrive: batch by batch, never a rebuild
        stop = min(items, start + 10_000)
        index.add(np.arange(start, stop), vectors[start:stop], nsfw[start:stop])
    figures["index_build_s"] = time.perf_counter() - began
    figures["index_bytes"] = index.memory_bytes()

    # --- members' histories ------------------------------------------------------------------
    began = time.perf_counter()
    tastes = [rng.choice(n_topics, size=3, replace=False) for _ in range(members)]
    by_topic = [np.flatnonzero(topic_of == t) for t in range(n_topics)]
    events = ("reaction", "play", "see", "vote", "reroll", "more_like_this")
    for m in range(members):
        member_id = 100_000 + m
        if m % 10 == 0:
            continue  # a tenth have no history
        count = int(rng.integers(per_member // 2, per_member * 3 // 2))
        picks = [int(rng.choice(by_topic[int(rng.choice(tastes[m]))])) for _ in range(count)]
        for row in sorted(picks, key=lambda r: times[r]):
            community.record(member_id, f"i{row}", str(rng.choice(events)), float(times[row]) + 3600.0)
    figures["signals"] = community.signals
    figures["signals_s"] = time.perf_counter() - began

    began = time.perf_counter()
    model = ALSModel.fit(list(community.interactions()), items, ALSParams())
    figures["als_fit_s"] = time.perf_counter() - began
    community.fitted(community.sequence)
    assert model is not None
    figures["als_bytes"] = int(model.item_factors.nbytes + model.user_factors.nbytes)
    ranker = Ranker(community, index, model, RankerConfig(), seed=seed)
    figures["rss_mib"] = rss_mib() - base
    del vectors

    # --- the index against exact search ------------------------------------------------------
    probe_rows = rng.choice(np.flatnonzero(~nsfw), size=100, replace=False)
    stored, _ = index.vectors(probe_rows)
    recalls = []
    all_vectors, _ = index.vectors(np.arange(items))
    sfw = np.flatnonzero(~nsfw)
    for query in stored:
        exact = set(sfw[np.argpartition(-(all_vectors[sfw] @ query), 100)[:100]].tolist())
        found = set(index.nearest(query, 100, nsfw=False).tolist())
        recalls.append(len(exact & found) / 100)
    figures["ann_recall_at_100"] = float(np.mean(recalls))
    del all_vectors

    # --- pages -------------------------------------------------------------------------------
    feed: list[float] = []
    similar: list[float] = []
    for q in range(queries):
        member_id = 100_000 + int(rng.integers(members))
        request = Request(member_id, now + q, nsfw_allowed=bool(q % 20 == 0))
        began = time.perf_counter()
        page = ranker.page(request, 5)
        feed.append((time.perf_counter() - began) * 1000)
        assert len(page) == 5
        row = int(rng.integers(items))
        began = time.perf_counter()
        ranker.similar(row, request, 5)
        similar.append((time.perf_counter() - began) * 1000)
    for name, values in (("feed", feed), ("similar", similar)):
        figures[f"{name}_p50_ms"] = statistics.median(values)
        figures[f"{name}_p95_ms"] = pct(values, 0.95)
        figures[f"{name}_p99_ms"] = pct(values, 0.99)
    # a new item and a signal arriving while serving: what the event loop pays for each
    began = time.perf_counter()
    for k in range(1000):
        row = community.add_item(f"new{k}", 7, "image", False, now + k)
        index.add(np.asarray([row]), stored[k % len(stored)][None, :], np.asarray([False]))
        community.record(100_001, f"new{k}", "reaction", now + k)
    figures["incremental_item_ms"] = time.perf_counter() - began
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--per-member", type=int, default=50, help="mean engagements per member with history")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    f = run(args.items, args.members, args.queries, args.per_member, args.seed)
    print(
        f"== /discover at {f['items']:,} items, {f['members']:,} members ({f['signals']:,} signals), {os.cpu_count()} CPUs =="
    )
    print(
        f"build: catalogue {f['catalogue_s']:.1f} s, HNSW index (added 10,000 at a time) {f['index_build_s']:.1f} s, "
        f"signals {f['signals_s']:.1f} s, ALS fit {f['als_fit_s']:.1f} s"
    )
    print(
        f"memory: process +{f['rss_mib']:.0f} MiB; index ≈ {f['index_bytes'] / 2**20:.0f} MiB, "
        f"ALS factors {f['als_bytes'] / 2**20:.0f} MiB"
    )
    print(f"index recall@100 against exact search: {f['ann_recall_at_100']:.3f}")
    print(
        f"/discover page (5 items): p50 {f['feed_p50_ms']:.1f} ms, p95 {f['feed_p95_ms']:.1f} ms, "
        f"p99 {f['feed_p99_ms']:.1f} ms  (goal: p99 ≤ 50 ms)"
    )
    print(
        f"more like this (5 items): p50 {f['similar_p50_ms']:.1f} ms, p95 {f['similar_p95_ms']:.1f} ms, "
        f"p99 {f['similar_p99_ms']:.1f} ms"
    )
    print(f"a new item embedded, indexed and engaged with: {f['incremental_item_ms']:.3f} ms each")
    if args.json is not None:
        from bench.figures import provenance

        args.json.write_text(json.dumps({**f, **provenance()}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
