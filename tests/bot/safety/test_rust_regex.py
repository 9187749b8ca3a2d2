"""AutoMod regex patterns: translation from Rust syntax, and the guards around running them."""

from __future__ import annotations

import logging

import pytest

from bot.safety.rust_regex import (
    MAX_PATTERNS,
    RegexTranslationError,
    compile_patterns,
    compile_rust,
    translate,
)


@pytest.mark.parametrize(
    ("rust", "python"),
    [
        (r"\bfoo\z", r"\bfoo\Z"),
        (r"\x{1F600}", r"\U0001F600"),
        (r"\u{e9}", r"\U000000E9"),
        (r"(?<word>ab)", r"(?P<word>ab)"),
        (r"(?P<word>ab)", r"(?P<word>ab)"),
        (r"\<cat\>", r"\mcat\M"),
        (r"\b{start}cat\b{end}", r"\mcat\M"),
        (r"[[:alpha:]]+", r"[[:alpha:]]+"),
        (r"[a-z&&[^aeiou]]", r"[a-z&&[^aeiou]]"),
        (r"(?iu:abc)", r"(?i:abc)"),
        (r"(?u)x", "x"),
        (r"\p{Han}+\pL{2, 3}", r"\p{Han}+\pL{2,3}"),
        (r"a+?b*?", r"a+?b*?"),
        (r"[]a]", r"[\]a]"),
    ],
)
def test_translation(rust: str, python: str) -> None:
    assert translate(rust) == python


@pytest.mark.parametrize(
    "rust", [r"(?=x)", r"(?<!x)y", r"(a)\1", r"a*+", r"(?U)a+", r"\k<a>", r"[abc", r"\q"]
)
def test_what_rust_rejects_is_refused(rust: str) -> None:
    with pytest.raises(RegexTranslationError):
        translate(rust)


def test_translated_patterns_match_like_rust() -> None:
    pattern = compile_rust(r"(?i)d[i1!]sc[o0]rd\.gg/\w+\z")
    assert pattern is not None
    assert list(pattern.spans("join DISC0RD.gg/abc")) == [(5, 19)]
    word = compile_rust(r"\<cat\>")
    assert word is not None and list(word.spans("a cat, concat")) == [(2, 5)]
    han = compile_rust(r"\p{Han}{2}")
    assert han is not None and list(han.spans("ab色情")) == [(2, 4)]


def test_untranslatable_pattern_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert compile_rust(r"(?=lookahead)") is None
    assert compile_rust("x" * 261) is None
    assert "skipped" in caplog.text


def test_at_most_ten_patterns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    compiled = compile_patterns([f"p{i}" for i in range(MAX_PATTERNS + 3)] + ["(?=bad)"])
    assert len(compiled) == MAX_PATTERNS
    assert "more than 10" in caplog.text


def test_a_pattern_that_runs_too_long_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    pattern = compile_rust(r"(\w+\s?)+$")  # catastrophic backtracking on a long word and a symbol
    assert pattern is not None
    assert list(pattern.spans("a" * 5000 + "!", timeout=0.001)) == []
    assert "ran past" in caplog.text
