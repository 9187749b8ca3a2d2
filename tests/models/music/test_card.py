"""The model card's training lines: each stage's command as it was run."""

from __future__ import annotations

import json
from pathlib import Path

from models.music.card import _training_lines


def _record(**config: object) -> dict[str, object]:
    return {"steps": 10, "train_tokens_seen": 100, "minutes": 1.5, "final_val_nll": 1.9, "config": config}


def test_each_continued_stage_names_its_balance_and_threads(tmp_path: Path) -> None:
    base = {"lr": 0.001, "min_lr": 0.0001, "warmup_steps": 100, "epochs": 2.0, "threads": 2}
    (tmp_path / "training-stage1.json").write_text(json.dumps(_record(**base, voices_above=True)))
    later = {**base, "init_from": "var/music/stage1", "lr": 0.0001, "warmup_steps": 20, "epochs": 1.0}
    lines = _training_lines(tmp_path, _record(**{**later, "balance": 0.5, "threads": 1}))
    first, second = (line for line in lines if line.startswith("Stage"))
    assert "`python -m models.music.train --voices-above`" in first
    assert "--balance" not in first and "--threads" not in first
    assert (
        "--init-from <stage 1> --epochs 1.0 --lr 0.0001 --min-lr 0.0001 --warmup 20 --balance 0.5" in second
    )
    assert second.count("--threads 1") == 1
    assert "All stages: 3.0 minutes" in lines[-2]
