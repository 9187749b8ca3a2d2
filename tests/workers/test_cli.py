"""Worker-side operator commands through the real `atelier` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from provenance.image import stamp_png
from provenance.text import add_footer

ATELIER = str(Path(sys.executable).with_name("atelier"))
JOB = "0123456789abcdef0123456789abcdef"
RECORD = {"label": "AI-generated with Atelier", "job_id": JOB, "model": "tiny", "seed": 5}


def _atelier(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ATELIER, *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def empty_model_caches(tmp_path: Path) -> dict[str, str]:
    """This process's environment with every model cache pointed at empty folders: what a developer
    has downloaded cannot change what `models list` reports (run it in `tmp_path`, so that no `.env`
    there can either)."""
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}}
    env.update(
        HF_HOME=str(hf_home),
        HF_HUB_CACHE=str(hf_home / "hub"),
        ATELIER_MODEL_CACHE_DIR=str(tmp_path / "atelier-models"),
    )
    return env


def test_models_list_reports_every_preset_and_the_bundled_text_model(tmp_path: Path) -> None:
    out = _atelier("models", "list", "--json", env=empty_model_caches(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {row["modality"] for row in rows} == {"music", "image", "text"}
    smol = next(row for row in rows if row["preset"] == "smollm2-135m")
    assert smol["installed"] and smol["default"]
    turbo = next(row for row in rows if row["preset"] == "sd-turbo")
    assert not turbo["installed"]  # the hub caches it would be found in are empty


def test_models_pull_of_a_bundled_model_explains_itself() -> None:
    out = _atelier("models", "pull", "smollm2-135m")
    assert out.returncode != 0 and "ships inside a Python package" in out.stderr


def test_verify_reads_a_text_footer(tmp_path: Path) -> None:
    path = tmp_path / "poem.txt"
    path.write_text(add_footer("Rain on the roof.", RECORD))
    out = _atelier("verify", str(path), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["from_atelier"] and report["job_id"] == JOB and report["seed"] == 5


def test_verify_finds_the_watermark_after_the_metadata_is_stripped(tmp_path: Path) -> None:
    blobs = (np.random.default_rng(1).random((32, 32, 3)) * 255).astype("uint8")  # a smooth picture
    stamped = stamp_png(Image.fromarray(blobs).resize((512, 512), Image.Resampling.BICUBIC), RECORD)
    plain = tmp_path / "reposted.jpg"
    Image.open(__import__("io").BytesIO(stamped)).convert("RGB").save(plain, quality=85)  # metadata gone
    out = _atelier("verify", str(plain), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["found_by"] == "watermark" and report["reference"] == JOB[:8]


def test_verify_says_so_when_a_file_is_not_ours(tmp_path: Path) -> None:
    path = tmp_path / "other.txt"
    path.write_text("just words")
    out = _atelier("verify", str(path))
    assert out.returncode == 1 and "no Atelier provenance" in out.stdout
