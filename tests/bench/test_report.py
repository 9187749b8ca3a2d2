"""bench.report on real runs: bench.policy and bench.music at tiny sizes write their JSON into a temp
folder, and the report's table has their rows (figures read back from that JSON), their commands,
and every other bench marked as not run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import BENCHES, main, number, render

ROOT = Path(__file__).resolve().parents[2]


def _bench(module: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, check=True, capture_output=True, timeout=240
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    _bench("bench.policy", "--rounds", "20", "--json", str(folder / "policy.json"))
    _bench("bench.music", "--runs", "1", "--bars", "4", "--json", str(folder / "music.json"))
    return folder


def _rows(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]


def test_the_table_has_the_rows_of_the_benches_that_ran(runs: Path) -> None:
    text = render(runs)
    recorded = json.loads((runs / "policy.json").read_text())
    rows = _rows(text, "policy")
    assert len(rows) == len(recorded["rows"]) > 0
    for line, row in zip(rows, recorded["rows"], strict=True):
        assert row["figure"] in line and number(row["value"]) in line
        assert "`python -m bench.policy --rounds 20`" in line  # the command that produced it
        if "ratio" in row:
            assert f"{row['value'] / row['baseline']:.2f}×" in line
        if "met" in row:
            assert ("| met |" if row["met"] else "| **missed** |") in line
    music = json.loads((runs / "music.json").read_text())
    rows = _rows(text, "music")
    assert any(
        number(music["median_total_s"]) in line and "generated + rendered, median" in line for line in rows
    )
    assert all("python -m bench.music --bars 4 --runs 1" in line for line in rows)


def test_benches_without_json_are_marked_not_run(runs: Path) -> None:
    text = render(runs)
    for bench in BENCHES:
        if bench.name in ("policy", "music"):
            assert "not run in this report" not in "".join(_rows(text, bench.name))
        else:
            (line,) = _rows(text, bench.name)
            assert "*not run in this report*" in line
            assert line.count("| — ") == 5  # value, baseline, ratio, goal, met: none
    assert text.count("not yet measured") == 4  # the GPU section: no gpu-*.json here


def test_an_unreadable_json_is_named_not_guessed(runs: Path, tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text((runs / "policy.json").read_text()[:40])
    (line,) = _rows(render(tmp_path), "policy")
    assert "unreadable JSON" in line and "| — | — |" in line


def test_main_writes_the_document(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "PERFORMANCE.md"
    main(["--dir", str(runs), "--out", str(out), "--note", "run at nice 10"])
    text = out.read_text()
    assert "About these runs (`--note`): run at nice 10" in text
    assert text.startswith("# Performance") and "## GPU" in text
    assert f"from 2 of {len(BENCHES)} bench runs' JSON" in text
