"""`atelier submit text` end to end: the CLI process, Redis, a Celery worker and the real SmolLM2 default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import Settings, load_settings
from tests.conftest import settings_env

ATELIER = str(Path(sys.executable).with_name("atelier"))


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ATELIER, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli_settings(settings: Settings) -> Settings:
    """The test settings, but the real model cache, so the converted SmolLM2 is reused across runs."""
    return load_settings(**{**settings.model_dump(), "model_cache_dir": Path.home() / ".cache" / "atelier"})


@pytest.mark.slow
def test_submit_text_returns_real_generated_text(
    cli_settings: Settings, start_worker: object, tmp_path: Path
) -> None:
    start_worker(cli_settings)  # type: ignore[operator]
    env = settings_env(cli_settings, COLUMNS="120")
    out = _run(
        [
            "submit",
            "text",
            "a haiku about rain",
            "--kind",
            "poem",
            "--max-new-tokens",
            "48",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "out"),
        ],
        env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "succeeded" in out.stdout
    saved = list((tmp_path / "out").glob("*poem.txt"))
    assert len(saved) == 1
    text = saved[0].read_text()
    assert "AI-generated with Atelier" in text
    body = text.split("AI-generated with Atelier")[0].strip()
    assert len(body.split()) >= 5  # real words from the real model

    listing = _run(["jobs", "list"], env, timeout=120)
    assert listing.returncode == 0 and "delivered" in listing.stdout


def test_submit_rejects_bad_options_before_queueing(settings: Settings) -> None:
    env = settings_env(settings)
    out = _run(["submit", "text", "   "], env, timeout=120)
    assert out.returncode == 2
    assert "options.prompt" in out.stderr and "Traceback" not in out.stderr
    out = _run(["submit", "music", "--tempo", "5000", "--no-wait"], env, timeout=120)
    assert (
        out.returncode == 2 and "--tempo" in out.stderr and "30<=x<=300" in out.stderr
    )  # the contract's range


def test_jobs_cancel_and_show(settings: Settings) -> None:
    env = settings_env(settings)
    out = _run(["submit", "text", "a short story", "--no-wait"], env, timeout=120)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.split("job ", 1)[1].split()[0]
    cancelled = _run(["jobs", "cancel", job_id], env, timeout=120)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    shown = _run(["jobs", "show", job_id], env, timeout=120)
    assert '"status": "cancelled"' in shown.stdout
    assert "interaction_token" not in shown.stdout
    missing = _run(["jobs", "show", "f" * 32], env, timeout=120)
    assert missing.returncode == 1 and "no job" in missing.stderr


def test_worker_command_refuses_unknown_modalities(settings: Settings) -> None:
    out = _run(["worker", "--queues", "video"], {**settings_env(settings), **dict(os.environ)}, timeout=60)
    assert out.returncode != 0 and "unknown modality" in out.stderr
