"""`atelier safety check`: one tab-separated line per prompt."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.safety_cmds import safety_group


def test_check_reads_stdin_and_prints_tab_separated_lines() -> None:
    prompts = "a lighthouse at dusk\nn4ked woman on a bed\n儿 童 色 情\na\ttab\n"
    result = CliRunner().invoke(safety_group, ["check"], input=prompts)
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert lines == [
        ["allowed", "-", "a lighthouse at dusk"],
        ["blocked", "category:sexual", "n4ked woman on a bed"],
        ["blocked", "category:minors", "儿 童 色 情"],
        ["allowed", "-", "a tab"],
    ]


def test_check_file_level_and_term_lists(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a naked woman\na sexy nurse costume\na red dragon\n", encoding="utf-8")
    terms = tmp_path / "terms.txt"
    terms.write_text("# blocked here\ndragon\n", encoding="utf-8")
    runner = CliRunner()
    relaxed = runner.invoke(safety_group, ["check", "--level", "relaxed", str(prompts)])
    assert [line.split("\t")[0] for line in relaxed.output.splitlines()] == ["allowed"] * 3
    strict = runner.invoke(
        safety_group, ["check", "--level", "strict", "--server-terms", str(terms), str(prompts)]
    )
    assert [line.split("\t")[1] for line in strict.output.splitlines()] == [
        "category:sexual",
        "category:sexual",
        "server_terms",
    ]
    operator = runner.invoke(safety_group, ["check", "--operator-terms", str(terms), str(prompts)])
    assert operator.output.splitlines()[2] == "blocked\toperator_terms\ta red dragon"
    assert relaxed.exit_code == strict.exit_code == operator.exit_code == 0
