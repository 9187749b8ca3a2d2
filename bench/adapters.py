"""Report rows from the JSON that bench.music, bench.discover, bench.interactions and
bench.queue_scaling write in their own shapes (older than `bench.figures`; music's is also the
model card's `bench.json`, so it keeps its shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.figures import Row, row

MUSIC_GOAL_S = 3.0  # a 32-bar reel generated and rendered (issue 4)
DISCOVER_GOAL_MS = 50.0  # /discover p99 on 2 cores (issue 18)
DEFER_GOAL_MS = 100.0  # interactions: defer p99 locally (issue 20)
RATE_GOAL = 500.0  # interactions: the highest rate with p99 under 100 ms (issue 20)


def music(data: dict[str, Any]) -> tuple[str, list[Row]]:
    """A tune generated and rendered to OGG, MIDI and PNG: the whole job's median against the goal."""
    bars, total = data["bars"], data["median_total_s"]
    title = f"Music: a {bars}-bar {data['style']} generated and rendered, {data['runs']} runs"
    goal = f"≤ {MUSIC_GOAL_S:g} s" if bars == 32 else ""
    return title, [
        row(
            "generated + rendered, median", total, "s", goal=goal, met=total <= MUSIC_GOAL_S if goal else None
        ),
        row("generated + rendered, worst", data["max_total_s"], "s"),
        row("decode, median", data["median_decode_s"], "s"),
        row("decode speed, median", data["median_tokens_per_s"], "tok/s"),
        row("peak resident memory", data["peak_rss_mb"], "MiB"),
    ]


def discover(data: dict[str, Any]) -> tuple[str, list[Row]]:
    """/discover at one size: the served page's p99 against the goal, with the build costs."""
    title = (
        f"/discover at {data['items']:,} items and {data['members']:,} members ({data['signals']:,} signals)"
    )
    p99 = data["feed_p99_ms"]
    return title, [
        row("/discover page p50", data["feed_p50_ms"], "ms"),
        row("/discover page p99", p99, "ms", goal=f"≤ {DISCOVER_GOAL_MS:g} ms", met=p99 <= DISCOVER_GOAL_MS),
        row("more like this p99", data["similar_p99_ms"], "ms"),
        row("HNSW index build", data["index_build_s"], "s"),
        row("ALS fit", data["als_fit_s"], "s"),
        row("index recall@100 against exact search", data["ann_recall_at_100"], ""),
        row("process memory added", data["rss_mib"], "MiB"),
    ]


def interactions(data: dict[str, Any]) -> tuple[str, list[Row]]:
    """The steady run (window, p99, memory) or the highest-rate search (each shard count)."""
    if "steady" in data:
        s = data["steady"]
        title = f"Interactions at {s['rate']:g}/s for {s['seconds']:g} s, {s['shards']} bot process(es)"
        return title, [
            row(
                "deferred within 3 s",
                s["in_time"],
                f"of {s['sent']:,}",
                goal=f"all {s['sent']:,}",
                met=s["in_time"] == s["sent"] and not s["late"] and not s["unanswered"],
            ),
            row("late / unanswered", s["late"] + s["unanswered"], "interactions"),
            row("defer p50", s["p50_ms"], "ms"),
            row(
                "defer p99",
                s["p99_ms"],
                "ms",
                goal=f"< {DEFER_GOAL_MS:g} ms",
                met=s["p99_ms"] < DEFER_GOAL_MS,
            ),
            row(
                "bot memory after the run",
                s["rss_after_mib"],
                "MiB",
                baseline=s["rss_before_mib"],
                baseline_label="before the run",
            ),
            row(
                "bot memory trend",
                s["rss_slope_mib_per_min"],
                "MiB/min",
                goal="no growth trend (judged by eye, no threshold)",
            ),
        ]
    parts = data["max_rate"]
    first = parts[0] if parts else None
    rows = []
    for part in parts:
        base = first["best_rate"] if first is not None and part is not first else None
        rows.append(
            row(
                f"highest rate with defer p99 < 100 ms, {part['shards']} process(es)",
                part["best_rate"],
                "/s",
                baseline=base,
                baseline_label=f"{first['shards']} process(es)" if first is not None else "",
                goal=f"≥ {RATE_GOAL:g}/s",
                met=part["best_rate"] >= RATE_GOAL,
            )
        )
    return "Interactions: the highest rate with defer p99 under 100 ms", rows


def queue_scaling(data: dict[str, Any]) -> tuple[str, list[Row]]:
    """Throughput per worker count against the fewest workers; cost per job against the smallest backlog."""
    rows = []
    runs = data.get("throughput", [])
    for run in runs:
        first = runs[0] if run is not runs[0] else None
        rows.append(
            row(
                f"instant-model jobs, {run['workers']} worker(s)",
                run["jobs_per_s"],
                "jobs/s",
                baseline=first["jobs_per_s"] if first else None,
                baseline_label=f"{runs[0]['workers']} worker(s)",
            )
        )
    sizes = data.get("backlog", [])
    for size in sizes[1:]:
        label = f"backlog {sizes[0]['backlog']:,}"
        rows.append(
            row(
                f"submit cost at a backlog of {size['backlog']:,}",
                size["submit_ms_per_job"],
                "ms/job",
                baseline=sizes[0]["submit_ms_per_job"],
                baseline_label=label,
            )
        )
        rows.append(
            row(
                f"bot CPU per drained job at a backlog of {size['backlog']:,}",
                size["bot_cpu_ms_per_job"],
                "ms/job",
                baseline=sizes[0]["bot_cpu_ms_per_job"],
                baseline_label=label,
            )
        )
    return f"Queue scaling, admission and fair sharing on ({data.get('database', '?')})", rows


ADAPTERS: dict[str, Callable[[dict[str, Any]], tuple[str, list[Row]]]] = {
    "music": music,
    "discover": discover,
    "interactions": interactions,
    "queue_scaling": queue_scaling,
}
