"""Measure the text backend: load time (cold conversion and cached), tokens/s and resident memory.

    python -m bench.text                      # the default preset, cached load + 3 runs
    python -m bench.text --cold --compare     # also a fresh conversion, and `model.generate`

Tokens/s counts every new token over the whole call (prefill included), median of `--runs`.
CPU s/token is process CPU time per token: unlike wall time it barely moves when other processes
share the cores, so it tells a slow machine from a slow loop.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROMPT = "a lighthouse keeper who finds a message in a bottle"


@dataclass
class Sample:
    tokens: int
    wall_s: float
    cpu_s: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall_s

    @property
    def cpu_per_token(self) -> float:
        return self.cpu_s / self.tokens


class QuietContext:
    """A GenerationContext that only counts progress reports."""

    job_id = "bench"

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


def memory() -> str:
    """Resident memory, and how much of it is the process's own (not shared, file-backed pages)."""
    import psutil

    info = psutil.Process().memory_info()
    return f"rss {info.rss / 2**20:.0f} MiB (own {(info.rss - info.shared) / 2**20:.0f} MiB)"


def rss_mib() -> float:
    """Resident memory of this process, MiB."""
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def timed(run: Any) -> Sample:
    wall, cpu = time.perf_counter(), time.process_time()
    tokens = int(run())
    return Sample(tokens, time.perf_counter() - wall, time.process_time() - cpu)


def report(label: str, samples: list[Sample]) -> tuple[float, float]:
    """Print one path's line; return its median tokens/s and CPU ms per token."""
    rates = [sample.tokens_per_s for sample in samples]
    cpu = statistics.median(sample.cpu_per_token for sample in samples) * 1000
    print(
        f"{label:<28} median {statistics.median(rates):6.1f} tok/s   runs {', '.join(f'{r:.1f}' for r in rates)}"
        f"   cpu {cpu:5.1f} ms/token   tokens {samples[-1].tokens}"
    )
    return statistics.median(rates), cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default=None, help="text preset (default: the configured default)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128, help="max_new_tokens per run")
    parser.add_argument("--threads", type=int, default=None, help="override the preset's threads")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None)
    parser.add_argument("--quantize", choices=["none", "int8"], default=None, help="override the preset's")
    parser.add_argument("--cold", action="store_true", help="also time a fresh GGUF conversion (temp cache)")
    parser.add_argument("--compare", action="store_true", help="also time plain `model.generate`")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch  # after the environment is set: OpenMP reads it once, when torch loads

    from bench.figures import Row, row, write
    from config.settings import get_settings
    from models.text.backend import TransformersTextBackend
    from wire.contract import TextJob, TextOptions

    settings = get_settings()
    name = args.preset or settings.default_text_preset
    if name not in settings.text_presets:
        parser.error(f"no text preset {name!r}; known: {', '.join(sorted(settings.text_presets))}")
    preset = settings.text_presets[name]
    updates = {key: value for key, value in (("threads", args.threads), ("dtype", args.dtype)) if value}
    preset = preset.model_copy(update=updates)
    load_avg = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"preset {name}: {preset.model} {preset.gguf_file or ''} dtype {preset.dtype} device {preset.device}"
    )
    print(
        f"cores {os.cpu_count()}, load average {load_avg}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}"
    )
    print(f"memory before load: {memory()}")
    rows: list[Row] = []

    if args.cold:
        with tempfile.TemporaryDirectory(prefix="atelier-bench-") as temp:
            cold_settings = settings.model_copy(update={"model_cache_dir": Path(temp)})
            started = time.perf_counter()
            cold = TransformersTextBackend.from_preset(name, preset, cold_settings, quantize=args.quantize)
            cold_s = time.perf_counter() - started
            print(f"load, cold ({cold.loaded.cache}): {cold_s:.2f} s")
            rows.append(row(f"load, cold ({cold.loaded.cache})", cold_s, "s"))
            del cold
    started = time.perf_counter()
    backend = TransformersTextBackend.from_preset(name, preset, settings, quantize=args.quantize)
    load_s = time.perf_counter() - started
    print(f"load ({backend.loaded.cache}): {load_s:.2f} s, threads {torch.get_num_threads()}")
    print(f"memory after load: {memory()}")
    rows.append(row(f"load ({backend.loaded.cache})", load_s, "s"))
    rows.append(row("resident memory after load", rss_mib(), "MiB"))

    def job(seed: int) -> TextJob:
        return TextJob(
            options=TextOptions(kind="story", prompt=PROMPT, max_new_tokens=args.tokens, seed=seed)
        )

    def run_backend(seed: int) -> int:
        return int(backend.generate(job(seed), QuietContext()).metadata["tokens"])

    run_backend(0)  # warm-up
    rate, cpu = report(
        "backend (lean loop)", [timed(lambda s=seed: run_backend(s)) for seed in range(1, args.runs + 1)]
    )
    lean = f"backend (lean loop), {args.tokens} tokens, median of {args.runs}"
    goal = "≥ 20 tok/s" if name == settings.default_text_preset else ""  # on 2 CPU cores (issue 5)
    met = rate >= 20 if goal else None

    if args.compare:
        model = backend.loaded.model
        ids = backend.prompt_ids([{"role": "user", "content": PROMPT}])

        def run_generate() -> int:
            out = model.generate(  # type: ignore[operator]  # transformers types `generate` loosely
                ids, max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False
            )
            return int(out.shape[1] - ids.shape[1])

        run_generate()
        base_rate, base_cpu = report(
            "model.generate (greedy)", [timed(run_generate) for _ in range(args.runs)]
        )
        with torch.inference_mode():
            mode_rate, _ = report(
                "generate + inference_mode", [timed(run_generate) for _ in range(args.runs)]
            )
        plain = "plain model.generate (greedy)"
        rows.append(
            row(
                f"{lean}: tokens/s",
                rate,
                "tok/s",
                baseline=base_rate,
                baseline_label=plain,
                goal=goal,
                met=met,
            )
        )
        rows.append(row(f"{lean}: CPU per token", cpu, "ms", baseline=base_cpu, baseline_label=plain))
        rows.append(
            row(
                "model.generate + inference_mode: tokens/s",
                mode_rate,
                "tok/s",
                baseline=base_rate,
                baseline_label=plain,
            )
        )
    else:
        rows.append(row(f"{lean}: tokens/s", rate, "tok/s", goal=goal, met=met))
        rows.append(row(f"{lean}: CPU per token", cpu, "ms"))
    print(f"memory after generation: {memory()}")
    sample_text = backend.generate(job(1), QuietContext()).text or ""
    print("sample:", sample_text[:300].replace("\n", " / "))
    if args.json is not None:
        write(
            args.json,
            "text",
            f"Text backend, preset {name} ({preset.device})",
            rows,
            {"preset": name, "device": preset.device},
        )


if __name__ == "__main__":
    main()
