"""all-MiniLM-L6-v2 from its wheel, offline: unit vectors of 384, paraphrases closer than strangers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.embed.encoder import DIM, MODEL_NAME, get_encoder

pytestmark = pytest.mark.slow


def test_paraphrases_are_closer_than_unrelated_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = get_encoder().encode(
        [
            "image: ocean waves at dawn, watercolour",
            "image: surf on a stormy coast, watercolor",
            "music: a jig in D",
        ]
    )
    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert get_encoder().encode([]).shape == (0, DIM)


def test_the_module_embeds_a_file_in_its_own_interpreter(tmp_path: Path) -> None:
    source = tmp_path / "texts.jsonl"
    source.write_text(
        "\n".join(
            json.dumps({"id": f"x{i}", "text": f"a poem about {w}"}) for i, w in enumerate(["rain", "snow"])
        )
    )
    out = tmp_path / "out.npz"
    subprocess.run([sys.executable, "-m", "models.embed", "encode", str(source), str(out)], check=True)
    with np.load(out) as data:
        assert list(data["ids"]) == ["x0", "x1"] and data["vectors"].shape == (2, DIM)
        assert str(data["model"]) == MODEL_NAME
