"""Offline evaluation of discovery on any interaction log (`atelier discover eval DIR`).

A log is a folder with `items.jsonl` (`guild`, `item`, `creator`, `modality`, `prompt`, `time` in Unix
seconds, `nsfw`; other keys ignored) and `events.jsonl` (`guild`, `member`, `item`, `event`, `time`).

Protocol. Each server is replayed on its own, in time order. A member's engaged items are their
first positive event on an item that is not their own; the last one is the test target, the one
before it the validation target. At each target, before the event is applied, the member's feed is
ranked from the state at that moment: the catalogue then (items already made, not their own, not
already engaged with or refused, none age-restricted: the feed is asked for in an ordinary
channel), popularity counted from earlier events only, and the collaborative model as last fitted
— it is refitted once a day of log time, only ever on earlier events, the member's own recent
history folded in at query time as when serving. Every eligible item is ranked: no sampled
negatives. The hybrid's weights are chosen on the validation targets (a grid over the four parts)
and reported on the test targets.

Reported per method: NDCG@10 and recall@10 of the held-out item, catalogue coverage (the share of
items that appear in any test member's top 10) and intra-list diversity (mean 1 − cosine between
MiniLM vectors within a top 10).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.discovery.catalogue import Community
from bot.discovery.collaborative import ALSModel, ALSParams, CollaborativeModel, EASEModel
from bot.discovery.ranking import PARTS, DenseVectors, Ranker, RankerConfig, Request, Scored, Weights
from bot.discovery.signals import is_positive
from bot.discovery.text import item_text

K = 10
REFIT_EVERY_S = 86400.0
"""The collaborative model is refitted once a day of log time (serving refits every few minutes)."""
MAX_REFITS = 400
GRID = {
    "content": (0.0, 0.5, 1.0),
    "collaborative": (0.0, 0.25, 0.5, 1.0, 2.0),
    "popularity": (0.0, 0.1, 0.25, 0.5, 1.0),
    "freshness": (0.0, 0.1, 0.25, 0.5, 1.0),
}


@dataclass(frozen=True)
class LogItem:
    guild: int
    item: str
    creator: int
    modality: str
    prompt: str
    time: float
    nsfw: bool


@dataclass(frozen=True)
class LogEvent:
    guild: int
    member: int
    item: str
    event: str
    time: float


@dataclass
class Log:
    items: list[LogItem]
    events: list[LogEvent]
    skipped: int = 0
    """Lines that could not be read (missing keys, bad JSON)."""


def _lines(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    yield {}
                    continue
                yield value if isinstance(value, dict) else {}


def load_log(folder: Path) -> Log:
    """Read a log folder; unreadable lines are counted, not fatal."""
    skipped = 0
    items: list[LogItem] = []
    for raw in _lines(folder / "items.jsonl"):
        try:
            items.append(
                LogItem(
                    guild=int(raw["guild"]),
                    item=str(raw["item"]),
                    creator=int(raw["creator"]),
                    modality=str(raw.get("modality") or "other"),
                    prompt=str(raw.get("prompt") or ""),
                    time=float(raw["time"]),
                    nsfw=bool(raw.get("nsfw", False)),
                )
            )
        except (KeyError, TypeError, ValueError):
            skipped += 1
    events: list[LogEvent] = []
    for raw in _lines(folder / "events.jsonl"):
        try:
            events.append(
                LogEvent(
                    guild=int(raw["guild"]),
                    member=int(raw["member"]),
                    item=str(raw["item"]),
                    event=str(raw["event"]),
                    time=float(raw["time"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            skipped += 1
    items.sort(key=lambda i: (i.time, i.item))
    events.sort(key=lambda e: e.time)
    return Log(items, events, skipped)


@dataclass
class Query:
    """One held-out target: the member's eligible catalogue then, with each part's raw scores."""

    guild: int
    member: int
    time: float
    split: str
    rows: np.ndarray
    target: int
    """Position of the held-out item in `rows`."""
    raw: dict[str, np.ndarray]
    counts: np.ndarray
    """All-time engagement counts (the plain popularity baseline)."""
    served_rows: np.ndarray | None = None
    served_sample: np.ndarray | None = None
    cold: bool = False
    extra_content: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class GuildReplay:
    guild: int
    community: Community
    vectors: DenseVectors
    queries: list[Query]
    ranker: Ranker


@dataclass
class Targets:
    validation: dict[tuple[int, int], int]
    """(member, event index) of each member's validation target."""
    test: dict[tuple[int, int], int]


def _targets(events: list[LogEvent], creators: dict[str, int]) -> tuple[set[int], set[int]]:
    """Indexes (into `events`) of each member's validation and test events."""
    firsts: dict[int, list[int]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    for index, event in enumerate(events):
        if not is_positive(event.event) or event.item not in creators:
            continue
        if creators[event.item] == event.member or (event.member, event.item) in seen:
            continue
        seen.add((event.member, event.item))
        firsts[event.member].append(index)
    validation, test = set(), set()
    for indexes in firsts.values():
        if len(indexes) >= 2:
            test.add(indexes[-1])
        if len(indexes) >= 3:
            validation.add(indexes[-2])
    return validation, test


def replay_guild(
    guild: int,
    items: list[LogItem],
    events: list[LogEvent],
    vectors: np.ndarray,
    config: RankerConfig,
    *,
    collaborative: str = "als",
    extra_vectors: dict[str, np.ndarray] | None = None,
    refit_every_s: float = REFIT_EVERY_S,
) -> GuildReplay:
    """Replay one server's log, recording every validation and test query (see the module doc)."""
    community = Community(guild)
    for item in items:  # every item is known up front; eligibility keeps the future out
        community.add_item(item.item, item.creator, item.modality, item.nsfw, item.time)
    nsfw = community.catalogue.nsfw.copy()
    dense = DenseVectors(vectors, nsfw=nsfw)
    extra = {name: DenseVectors(m, nsfw=nsfw) for name, m in (extra_vectors or {}).items()}
    ranker = Ranker(community, dense, None, config, seed=guild)
    creators = {i.item: i.creator for i in items}
    validation, test = _targets(events, creators)
    refit_at: list[float] = []
    if events:
        first, last = events[0].time, events[-1].time
        step = max(refit_every_s, (last - first) / MAX_REFITS)
        refit_at = [float(t) for t in np.arange(first + step, last + step, step)]
    next_refit = 0
    queries: list[Query] = []
    item_times = community.catalogue.time
    for index, event in enumerate(events):
        while next_refit < len(refit_at) and event.time >= refit_at[next_refit]:
            existing = int(np.searchsorted(item_times, refit_at[next_refit], side="right"))
            ranker.collaborative = _fit(collaborative, community, existing)
            community.fitted(community.sequence)
            next_refit += 1
        if index in validation or index in test:
            query = _query(ranker, event, "validation" if index in validation else "test", extra)
            if query is not None:
                queries.append(query)
        community.record(event.member, event.item, event.event, event.time)
    return GuildReplay(guild, community, dense, queries, ranker)


def _fit(kind: str, community: Community, n_items: int) -> CollaborativeModel | None:
    interactions = list(community.interactions())
    if kind == "ease":
        return EASEModel.fit(interactions, n_items)
    return ALSModel.fit(interactions, n_items, ALSParams())


def _query(ranker: Ranker, event: LogEvent, split: str, extra: dict[str, DenseVectors]) -> Query | None:
    community = ranker.community
    target_row = community.catalogue.rows.get(event.item)
    if target_row is None:
        return None
    request = Request(member_id=event.member, now=event.time)
    member = community.members.get(event.member)
    mask = ranker.eligible(request, member)
    if not mask[target_row]:
        return None  # age-restricted, or not eligible for another reason
    rows = np.flatnonzero(mask)
    taste = ranker._taste(member)
    collaborative_scores = ranker.collaborative_scores(member)
    raw = ranker.raw_parts(rows, request, member, collaborative_scores, taste)
    query = Query(
        guild=community.guild_id,
        member=event.member,
        time=event.time,
        split=split,
        rows=rows.astype(np.int32),
        target=int(np.searchsorted(rows, target_row)),
        raw={k: v.astype(np.float32) for k, v in raw.items()},
        counts=community.popularity.counts(len(community.catalogue))[rows].astype(np.float32),
        cold=member is None or not member.rows,
    )
    for name, source in extra.items():
        swapped = Ranker(community, source, None, ranker.config)
        query.extra_content[name] = swapped.raw_parts(rows, request, member, None)["content"].astype(
            np.float32
        )
    if split == "test":
        served_rows, sample = ranker.candidates(
            request, member, mask, collaborative_scores, taste[0], taste[1]
        )
        query.served_rows = np.searchsorted(rows, served_rows).astype(np.int32)
        query.served_sample = sample.astype(np.int32)
    return query


# --- scoring methods --------------------------------------------------------------------------


def _z(raw: dict[str, np.ndarray], sample: np.ndarray | None = None) -> dict[str, np.ndarray]:
    reference = np.arange(len(next(iter(raw.values())))) if sample is None else sample
    return Ranker.standardise(raw, reference)


def _weights_grid() -> list[Weights]:
    grid = []
    for values in itertools.product(*(GRID[p] for p in PARTS)):
        if any(values):
            grid.append(Weights(*values))
    return grid


def tune(queries: list[Query]) -> tuple[Weights, float]:
    """The grid's weights with the best mean NDCG@10 on these (validation) queries."""
    grid = _weights_grid()
    matrix = np.asarray([[w.of(p) for p in PARTS] for w in grid], dtype=np.float32).T  # (parts, combos)
    total = np.zeros(len(grid))
    for query in queries:
        z = _z(query.raw)
        parts = np.stack([z[p] for p in PARTS], axis=1).astype(np.float32)  # (rows, parts)
        scores = parts @ matrix
        target = scores[query.target]
        # ties broken at random on average: no credit for a part that says nothing
        rank = (scores > target).sum(axis=0) + 0.5 * ((scores == target).sum(axis=0) - 1)
        total += np.where(rank < K, 1.0 / np.log2(rank + 2.0), 0.0)
    best = int(np.argmax(total))
    return grid[best], float(total[best] / max(1, len(queries)))


@dataclass
class MethodResult:
    name: str
    ndcg: float
    recall: float
    coverage: float
    diversity: float
    queries: int


def _metrics(
    name: str,
    lists: list[tuple[Query, list[int]]],
    vectors: dict[int, DenseVectors],
    catalogue_sizes: dict[int, int],
) -> MethodResult:
    """NDCG@10, recall@10, coverage and intra-list diversity of top-10 lists (rows per query)."""
    ndcg = recall = ild = 0.0
    shown: dict[int, set[int]] = defaultdict(set)
    for query, rows in lists:
        target = int(query.rows[query.target])
        if target in rows:
            rank = rows.index(target)
            ndcg += 1.0 / math.log2(rank + 2)
            recall += 1.0
        shown[query.guild].update(rows)
        v, has = vectors[query.guild].vectors(np.asarray(rows, dtype=np.int64))
        v = v[has]
        if len(v) > 1:
            sim = v @ v.T
            n = len(v)
            ild += float((n * n - sim.sum()) / (n * (n - 1)))
    n = max(1, len(lists))
    coverage = sum(len(s) for s in shown.values()) / max(1, sum(catalogue_sizes.values()))
    return MethodResult(name, ndcg / n, recall / n, coverage, ild / n, len(lists))


def _top(query: Query, scores: np.ndarray, k: int = K) -> list[int]:
    """The k best rows, ties broken at random (a part that says nothing gets no credit for order)."""
    jitter = np.random.default_rng(query.member).random(len(scores)) * 1e-9
    order = np.argsort(-(scores + jitter), kind="stable")[:k]
    return [int(query.rows[i]) for i in order]


def evaluate_replays(
    replays: list[GuildReplay],
    weights: Weights,
    config: RankerConfig,
    default_weights: Weights,
    seed: int = 0,
) -> list[MethodResult]:
    """Every method's test-split figures."""
    rng = np.random.default_rng(seed)
    tests = [(r, q) for r in replays for q in r.queries if q.split == "test"]
    vectors = {r.guild: r.vectors for r in replays}
    sizes = {r.guild: int((r.community.catalogue.alive & ~r.community.catalogue.nsfw).sum()) for r in replays}
    methods: dict[str, list[tuple[Query, list[int]]]] = defaultdict(list)
    for replay, query in tests:
        z = _z(query.raw)
        hybrid = Ranker.fuse(z, weights)
        request = Request(member_id=query.member, now=query.time)
        scored = Scored(query.rows.astype(np.int64), z, hybrid)
        methods["hybrid (tuned weights, MMR, exploration)"].append(
            (query, replay.ranker.select(scored, K, request))
        )
        methods["hybrid, relevance only (no MMR, no exploration)"].append((query, _top(query, hybrid)))
        if query.served_rows is not None and query.served_sample is not None:
            sub = {p: v[query.served_rows] for p, v in query.raw.items()}
            zs = _z(sub, query.served_sample)
            served = Scored(query.rows[query.served_rows].astype(np.int64), zs, Ranker.fuse(zs, weights))
            methods["hybrid as served (candidates + sampled standardisation)"].append(
                (query, replay.ranker.select(served, K, request))
            )
        default = Ranker.fuse(z, default_weights)
        methods["hybrid, shipped default weights"].append(
            (query, replay.ranker.select(Scored(scored.rows, z, default), K, request))
        )
        for part in PARTS:
            methods[f"{part} alone"].append((query, _top(query, z[part])))
        for name, values in query.extra_content.items():
            methods[f"content alone ({name})"].append((query, _top(query, values)))
        methods["popularity (all-time count)"].append(
            (query, _top(query, query.counts + 1e-6 * z["freshness"]))
        )
        methods["random"].append((query, [int(query.rows[i]) for i in rng.permutation(len(query.rows))[:K]]))
    return [_metrics(name, lists, vectors, sizes) for name, lists in methods.items()]


@dataclass
class Report:
    source: str
    guilds: int
    items: int
    events: int
    members: int
    validation: int
    test: int
    cold: int
    weights: Weights
    validation_ndcg: float
    results: list[MethodResult]
    seconds: float
    skipped: int
    embedding: str
    collaborative: str

    def baseline(self) -> float:
        popular = [
            r.ndcg for r in self.results if r.name in ("popularity alone", "popularity (all-time count)")
        ]
        return max(popular) if popular else 0.0

    def table(self) -> str:
        base = self.baseline()
        lines = [
            f"{self.source}: {self.guilds} servers, {self.items} items, {self.events} events, {self.members} members; "
            f"{self.test} test targets ({self.cold} with no earlier history), {self.validation} validation",
            f"embedding {self.embedding}, collaborative {self.collaborative}; weights chosen on validation: "
            + ", ".join(f"{p} {self.weights.of(p):g}" for p in PARTS)
            + f" (validation NDCG@10 {self.validation_ndcg:.4f})",
            "",
            "| method | NDCG@10 | recall@10 | coverage | diversity | × popularity |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in self.results:
            ratio = r.ndcg / base if base > 0 else float("nan")
            lines.append(
                f"| {r.name} | {r.ndcg:.4f} | {r.recall:.4f} | {r.coverage:.3f} | {r.diversity:.3f} | {ratio:.2f}× |"
            )
        lines.append("")
        lines.append(f"(popularity = the better of the two popularity rows; {self.seconds:.0f} s)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "guilds": self.guilds,
            "items": self.items,
            "events": self.events,
            "members": self.members,
            "validation_targets": self.validation,
            "test_targets": self.test,
            "cold_targets": self.cold,
            "weights": self.weights.as_dict(),
            "validation_ndcg": self.validation_ndcg,
            "embedding": self.embedding,
            "collaborative": self.collaborative,
            "results": [r.__dict__ for r in self.results],
            "popularity_ndcg": self.baseline(),
            "seconds": self.seconds,
        }


Embedder = Callable[[list[str], list[str]], np.ndarray]


def evaluate(
    folder: Path,
    embed: Embedder,
    *,
    config: RankerConfig | None = None,
    collaborative: str = "als",
    embedding_name: str = "all-MiniLM-L6-v2",
    extra: dict[str, Embedder] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Replay the log in `folder` and report every method (see the module doc)."""
    began = time.perf_counter()
    log = load_log(folder)
    config = config or RankerConfig()
    say = progress or (lambda _: None)
    say(f"read {len(log.items)} items and {len(log.events)} events ({log.skipped} lines skipped)")
    ids = [i.item for i in log.items]
    texts = [item_text(i.modality, i.prompt) for i in log.items]
    vectors = embed(ids, texts)
    extra_all = {name: fn(ids, texts) for name, fn in (extra or {}).items()}
    position = {item_id: n for n, item_id in enumerate(ids)}
    by_guild_items: dict[int, list[LogItem]] = defaultdict(list)
    for item in log.items:
        by_guild_items[item.guild].append(item)
    by_guild_events: dict[int, list[LogEvent]] = defaultdict(list)
    for event in log.events:
        by_guild_events[event.guild].append(event)
    replays = []
    for guild in sorted(by_guild_items):
        items = by_guild_items[guild]
        index = np.asarray([position[i.item] for i in items])
        say(f"replaying server {guild}: {len(items)} items, {len(by_guild_events[guild])} events")
        replays.append(
            replay_guild(
                guild,
                items,
                by_guild_events[guild],
                vectors[index],
                config,
                collaborative=collaborative,
                extra_vectors={n: m[index] for n, m in extra_all.items()},
            )
        )
    validation = [q for r in replays for q in r.queries if q.split == "validation"]
    tests = [q for r in replays for q in r.queries if q.split == "test"]
    weights, validation_ndcg = tune(validation) if validation else (config.weights, 0.0)
    say(f"weights chosen on {len(validation)} validation targets: {weights.as_dict()}")
    results = evaluate_replays(replays, weights, replace(config, weights=weights), config.weights)
    return Report(
        source=str(folder),
        guilds=len(replays),
        items=len(log.items),
        events=len(log.events),
        members=len({(e.guild, e.member) for e in log.events}),
        validation=len(validation),
        test=len(tests),
        cold=sum(q.cold for q in tests),
        weights=weights,
        validation_ndcg=validation_ndcg,
        results=results,
        seconds=time.perf_counter() - began,
        skipped=log.skipped,
        embedding=embedding_name,
        collaborative=collaborative,
    )
