"""`python -m bench.report`: docs/PERFORMANCE.md from the benches' JSON in var/bench/ (`make bench`).

One table of every benchmark: each figure with its baseline measured in the same run and the ratio,
or its goal and whether it was met, and the command that produced it. A bench whose JSON is missing
gets a row saying it was not run; nothing is filled in from elsewhere. Then the GPU section, filled
from var/bench/gpu-*.json when those were measured on a GPU machine.

    python -m bench.report [--dir var/bench] [--out docs/PERFORMANCE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.adapters import ADAPTERS
from bench.figures import Row

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    name: str  # var/bench/<name>.json
    command: str  # as `make bench` runs it
    adapter: str = ""  # for JSON in the bench's own shape (bench.adapters)


BENCHES = (
    Bench("pipeline", "python -m bench.pipeline"),
    Bench("image_batching", "python -m bench.image_batching"),
    Bench("interactions-steady", "python -m bench.interactions --rate 100 --seconds 60", "interactions"),
    Bench("interactions-max", "python -m bench.interactions --find-max --shards 1 2 4", "interactions"),
    Bench("queue_scaling", "python -m bench.queue_scaling", "queue_scaling"),
    Bench("policy", "python -m bench.policy"),
    Bench("text", "HF_HUB_OFFLINE=1 python -m bench.text --compare"),
    Bench("llama_server", "HF_HUB_OFFLINE=1 python -m bench.llama_server"),
    Bench("music", "python -m bench.music", "music"),
    Bench("page", "python -m bench.page"),
    Bench("discover", "python -m bench.discover", "discover"),
    Bench("challenge", "python -m bench.challenge"),
)

GPU_IMAGE = (
    "HF_HUB_OFFLINE=1 python -m bench.image_batching --preset sd-turbo --jobs 32 --max-size 8 --rounds 5 "
    "--json var/bench/gpu-image.json"
)
GPU_TEXT = "HF_HUB_OFFLINE=1 python -m bench.text --preset smollm2-1.7b --json var/bench/gpu-text.json"
GPU_MUSIC = "python -m bench.music --json var/bench/gpu-music.json"


@dataclass
class Run:
    name: str
    title: str = ""
    command: str = ""
    finished: str = ""
    seconds: float | None = None
    rows: list[Row] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why it has no rows


def _display(command: str) -> str:
    """The command without its `--json PATH` (every run has one)."""
    return re.sub(r"\s--json\s+\S+", "", command)


def _music_command(data: dict[str, Any]) -> str:
    """bench.music's JSON (also the model card's) records every argument but the weights folder."""
    return (
        f"python -m bench.music --bars {data['bars']} --runs {data['runs']} --style {data['style']} "
        f"--threads {data['threads']}"
    )


def load(path: Path, bench: Bench | None) -> Run:
    """One run from its JSON: the common envelope (bench.figures) or a bench's own shape."""
    name = path.stem
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return Run(name, problem=f"unreadable JSON ({error.__class__.__name__})")
    if not isinstance(data, dict):
        return Run(name, problem="JSON not in the shape bench.report knows")
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    recorded = data.get("command")
    command = _display(recorded) if recorded else ""
    if not command and bench is not None and bench.adapter == "music" and "bars" in data:
        command = _music_command(data)
    if not command:
        command = f"{bench.command} (the Makefile's: its JSON does not record one)" if bench else "unknown"
    run = Run(
        name,
        command=command,
        finished=data.get("finished_at") or f"{mtime} (file time)",
        seconds=data.get("seconds"),
        figures=data.get("figures", {}),
    )
    if isinstance(data.get("rows"), list):
        run.title, run.rows = data.get("title", name), data["rows"]
    elif bench is not None and bench.adapter:
        try:
            run.title, run.rows = ADAPTERS[bench.adapter](data)
        except (KeyError, TypeError, IndexError) as error:
            run.problem = f"JSON not in the shape bench.report knows ({error!r})"
    else:
        run.problem = "JSON not in the shape bench.report knows"
    return run


def collect(folder: Path) -> tuple[list[Run], dict[str, Run]]:
    """Every expected bench (missing ones with no rows), other runs after; GPU runs apart."""
    known = {bench.name: bench for bench in BENCHES}
    runs = []
    for bench in BENCHES:
        path = folder / f"{bench.name}.json"
        runs.append(load(path, bench) if path.exists() else Run(bench.name, command=bench.command))
    gpu = {}
    for path in sorted(folder.glob("*.json")):
        if path.stem.startswith("gpu-"):
            gpu[path.stem] = load(path, Bench(path.stem, "", "music" if path.stem == "gpu-music" else ""))
        elif path.stem not in known:
            runs.append(load(path, None))
    return runs, gpu


def machine() -> str:
    """Cores, CPU model and memory of this machine (from /proc on Linux)."""
    model, memory = "unknown CPU", "unknown memory"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, {memory}"


def number(value: float) -> str:
    """A figure at a sensible precision."""
    size = abs(value)
    if value == int(value) and size < 1e12:
        return f"{int(value):,}"
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_row(name: str, row: Row, command: str) -> str:
    unit = f" {row['unit']}" if row.get("unit") else ""
    baseline, ratio = "—", "—"
    if "baseline" in row:
        baseline = f"{number(row['baseline'])}{unit} ({row.get('baseline_label', '')})"
        ratio = f"{row['ratio']:.2f}×" if "ratio" in row else "—"
    met = {True: "met", False: "**missed**"}.get(row["met"], "—") if "met" in row else "—"
    cells = [
        f"`{name}`",
        row["figure"],
        f"{number(row['value'])}{unit}",
        baseline,
        ratio,
        row.get("goal", "—"),
        met,
        f"`{command}`",
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def main_table(runs: list[Run]) -> list[str]:
    lines = [
        "| Benchmark | Figure | Value | Baseline (same run) | Ratio | Goal | Met? | Command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.rows:
            lines += [table_row(run.name, row, run.command) for row in run.rows]
        else:
            why = run.problem or "not run in this report"
            lines.append(f"| `{run.name}` | *{why}* | — | — | — | — | — | `{_cell(run.command)}` |")
    return lines


def runs_list(runs: list[Run]) -> list[str]:
    lines = []
    for run in runs:
        if not run.rows:
            continue
        took = f", ran {run.seconds:.0f} s" if run.seconds is not None else ", run time not recorded"
        lines.append(f"- `{run.name}` — {run.title}: `{run.command}`; finished {run.finished}{took}.")
    return lines


def missed(runs: list[Run]) -> list[str]:
    lines = []
    for run in runs:
        for row in run.rows:
            if row.get("met") is False:
                unit = f" {row['unit']}" if row.get("unit") else ""
                ratio = f" ({row['ratio']:.2f}× its baseline)" if "ratio" in row else ""
                figure = f"{row['figure']} is {number(row['value'])}{unit}{ratio}"
                lines.append(f"- `{run.name}`: {figure}; goal {row['goal']}.")
    return lines


def _on_gpu(run: Run | None) -> bool:
    return run is not None and bool(run.rows) and str(run.figures.get("device", "cpu")) != "cpu"


def gpu_section(gpu: dict[str, Run]) -> list[str]:
    lines = [
        "## GPU",
        "",
        "Measured only on a machine with a GPU and the presets' weights in its Hugging Face cache; the",
        "machine that wrote this report has none unless a row below says otherwise. To fill it in, run on",
        "the GPU machine, then `python -m bench.report`:",
        "",
        "```bash",
        GPU_IMAGE,
        GPU_TEXT,
        GPU_MUSIC,
        "```",
        "",
        "| Figure | Value | Command |",
        "|---|---|---|",
    ]
    image, text, music = gpu.get("gpu-image"), gpu.get("gpu-text"), gpu.get("gpu-music")
    todo = "not yet measured"
    off = on = todo
    if image is not None and _on_gpu(image):
        for row in image.rows:
            if row["figure"].startswith("throughput, median round"):
                off = f"{number(row['baseline'])} images/s" if "baseline" in row else todo
                on = f"{number(row['value'])} images/s"
    tokens = todo
    if text is not None and _on_gpu(text):
        rates = [row for row in text.rows if row.get("unit") == "tok/s"]
        tokens = f"{number(rates[0]['value'])} tok/s" if rates else todo
    pieces = todo
    if music is not None and music.rows and music.rows[0]["value"]:
        total = music.rows[0]["value"]
        pieces = f"{number(1 / total)} pieces/s (1 ÷ the median {number(total)} s; the model ran on the CPU)"
    image_cmd, text_cmd = _display(GPU_IMAGE), _display(GPU_TEXT)
    lines += [
        f"| images/s, SD-Turbo (sd-turbo) at 512², batching off | {off} | `{image_cmd}` |",
        f"| images/s, SD-Turbo (sd-turbo) at 512², batching on (≤ 8) | {on} | `{image_cmd}` |",
        f"| text tokens/s, smollm2-1.7b on CUDA | {tokens} | `{text_cmd}` |",
        f"| music pieces/s, a 32-bar reel generated and rendered | {pieces} | `{_display(GPU_MUSIC)}` |",
        "",
        "bench.music has no device option: the music model decodes on the CPU (torch threads), so its",
        "pieces/s on a GPU machine measures that machine's CPU. The CPU figure is in the table above.",
    ]
    return lines


def render(folder: Path, now: datetime | None = None, note: str = "") -> str:
    runs, gpu = collect(folder)
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    ran = sum(1 for run in runs if run.rows)
    lines = [
        "# Performance",
        "",
        f"Written by `python -m bench.report` (the last step of `make bench`) on {when},",
        f"from {ran} of {len(runs)} bench runs' JSON in `{_relative(folder)}/`.",
        f"Machine: {machine()}.",
        "",
        *([f"About these runs (`--note`): {note}", ""] if note else []),
        "Timings on a shared machine are noisy: other jobs share the cores, so absolute figures move from",
        "run to run. Each bench measures its baseline side by side in the same run (alternating rounds",
        "where it has two sides), so the ratios are steadier than the figures. A bench marked *not run in",
        "this report* has no JSON here; its figures are not taken from anywhere else. Every command also",
        "had `--json var/bench/<name>.json`.",
        "",
        *main_table(runs),
        "",
        "## Goals missed",
        "",
        *(missed(runs) or ["None among the benches that ran."]),
        "",
        "## Runs",
        "",
        *(runs_list(runs) or ["None."]),
        "",
        *gpu_section(gpu),
        "",
    ]
    return "\n".join(lines)


def _relative(folder: Path) -> str:
    try:
        return str(folder.resolve().relative_to(ROOT))
    except ValueError:
        return str(folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench", help="the runs' JSON files")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "PERFORMANCE.md")
    parser.add_argument("--note", default="", help="a line about how these runs were made, shown as given")
    args = parser.parse_args(argv)
    text = render(args.dir, note=args.note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
