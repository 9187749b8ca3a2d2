"""Blocked-term matching with Discord AutoMod's wildcard semantics, and the allow list."""

from __future__ import annotations

import logging

import pytest

from bot.safety.normalize import normalize
from bot.safety.terms import MAX_KEYWORDS, AllowList, TermSet, first_blocked, parse


def matched(entries: list[str], text: str, allow: list[str] = ()) -> str | None:  # type: ignore[assignment]
    terms = TermSet((e, e) for e in entries)
    found = first_blocked(terms, normalize(text), AllowList(allow))
    return None if found is None else found.keyword.source


def test_parse() -> None:
    assert parse("word") == ("word", False, False)
    assert parse("*word") == ("word", True, False)
    assert parse("word*") == ("word", False, True)
    assert parse("*word*") == ("word", True, True)


@pytest.mark.parametrize(
    ("entry", "text", "hit"),
    [
        ("cat", "a cat here", True),
        ("cat", "a category", False),  # whole word only
        ("cat", "bobcat", False),
        ("*cat", "bobcat", True),  # suffix
        ("*cat", "category", False),
        ("cat*", "category", True),  # prefix
        ("cat*", "bobcat", False),
        ("*cat*", "concatenate", True),  # anywhere
        ("kill you", "i will kill   you", True),  # phrase across spaces
        ("kill you", "kill yourself", False),
        ("kill you*", "kill yourself", True),
        ("*ill you", "will you", True),
        ("CaT", "A CAT", True),  # case-insensitive both ways
        ("色情", "儿童色情图片", True),  # Chinese matches wherever it stands
        ("色情", "色 * 情", True),
    ],
)
def test_wildcard_semantics(entry: str, text: str, hit: bool) -> None:
    assert (matched([entry], text) == entry) is hit


def test_terms_see_through_evasion() -> None:
    for text in ("k1ll", "k.i.l.l", "killlll", "ｋｉｌｌ", "kіll"):
        assert matched(["kill"], text) == "kill", text


def test_doubled_letters_only_collapse_for_long_terms() -> None:
    assert matched(["ass"], "asss") == "ass"  # three letters become two
    assert matched(["ass"], "as") is None  # but "ass" never matches "as"
    assert matched(["fuck"], "fuuuuck") == "fuck"
    assert matched(["shooting"], "shoting") == "shooting"


def test_allow_list_exempts_matches_inside_its_own() -> None:
    assert matched(["blood"], "a blood orange sorbet", allow=["blood orange"]) is None
    assert matched(["blood"], "blood and a blood orange", allow=["blood orange"]) == "blood"
    assert matched(["*ass*"], "a classic car", allow=["class*"]) is None
    assert matched(["*ass*"], "a classic car", allow=["class"]) == "*ass*"  # "class" is not "classic"


def test_limits(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    terms = TermSet(((f"w{i}", i) for i in range(MAX_KEYWORDS + 5)), limit=MAX_KEYWORDS)
    assert len(terms) == MAX_KEYWORDS
    too_long = TermSet([("x" * 61, 0), ("ok", 1)])
    assert len(too_long) == 1
    assert "more than 1000" in caplog.text and "longer than 60" in caplog.text


def test_empty_entries_are_ignored() -> None:
    assert len(TermSet([("***", 0), ("  ", 1)])) == 0
