"""The command line takes its defaults, choices and ranges from the job contract."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli.main import cli
from wire.contract import MUSIC_STYLES, MusicOptions, TextOptions, field_bounds


def test_music_options_come_from_the_contract() -> None:
    shown = CliRunner().invoke(cli, ["submit", "music", "--help"]).output
    low, high = field_bounds(MusicOptions, "tempo")
    assert f"default: {MusicOptions().tempo}; {low}<=x<={high}" in shown
    assert all(style in shown for style in MUSIC_STYLES)


def test_out_of_range_values_are_refused_before_anything_is_submitted() -> None:
    _, high = field_bounds(MusicOptions, "bars")
    result = CliRunner().invoke(cli, ["submit", "music", "--bars", str(high + 1), "--no-wait"])
    assert result.exit_code == 2 and "--bars" in result.output
    result = CliRunner().invoke(cli, ["submit", "text", "x", "--kind", "limerick", "--no-wait"])
    assert result.exit_code == 2 and "--kind" in result.output


def test_text_defaults_are_the_contracts() -> None:
    shown = CliRunner().invoke(cli, ["submit", "text", "--help"]).output
    defaults = TextOptions(prompt="x")
    assert f"default: {defaults.max_new_tokens}" in shown and f"default: {defaults.kind}" in shown
