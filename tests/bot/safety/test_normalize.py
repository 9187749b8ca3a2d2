"""The evasion normaliser: each kind of evasion, and Chinese left intact."""

from __future__ import annotations

import pytest

from bot.safety.normalize import canonical, collapse_runs, decode_leet, join_spaced, normalize, tokenize

VOCABULARY = frozenset({"naked", "porn", "kill", "sieg", "heil", "mutilated"})


def texts(prompt: str) -> set[str]:
    return {v.text for v in normalize(prompt, vocabulary=VOCABULARY).views}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("KiLL", "kill"),  # case
        ("ｎｕｄｅ ＰＨＯＴＯ", "nude photo"),  # full-width forms (NFKC)
        ("𝐇𝐞𝐢𝐥 𝓱𝓲𝓽𝓵𝓮𝓻", "heil hitler"),  # mathematical alphanumerics
        ("se\u200bx t\u200dape\ufeff", "sex tape"),  # zero-width characters
        ("n\u0336u\u0336d\u0336e\u0336", "nude"),  # combining strike-through
        ("ñúdé", "nude"),  # accents
        ("nаkеd", "naked"),  # Cyrillic а and е
        ("ηαkεd", "naked"),  # Greek look-alikes
        ("🇳🇺🇩🇪", "nude"),  # regional indicator letters
        ("k_i_l_l", "k i l l"),  # underscores become spaces
    ],
)
def test_canonical_form(raw: str, expected: str) -> None:
    assert canonical(raw) == expected


@pytest.mark.parametrize(
    ("raw", "view"),
    [
        ("k1ll", "kill"),
        ("h@te", "hate"),
        ("$hit", "shit"),
        ("sh!t", "shit"),
        ("l0li h3ntai", "loli hentai"),
        ("1oli", "loli"),  # 1 read as l as well as i
        ("p*rn star", "porn star"),  # a masked letter filled from the vocabulary
        ("n*k*d", "naked"),
        ("k.i.l.l", "kill"),  # separators between letters
        ("k i l l", "kill"),
        ("k-i-l-l", "kill"),
        ("s 3 x scene", "sex scene"),
        ("ki.ll", "kill"),
        ("killlll", "kill"),  # repeated letters
        ("s i e g h e i l", "sieg heil"),  # spaced letters split back into vocabulary words
        ("a m u t i l a t e d corpse", "a mutilated corpse"),  # a leading article stays apart
    ],
)
def test_views_undo_evasion(raw: str, view: str) -> None:
    assert view in texts(raw)


def test_repeated_letters_give_a_collapsed_view() -> None:
    views = normalize("fuuuuck").views
    assert [v.text for v in views if v.collapsed] == ["fuck"]
    assert collapse_runs("killlll", keep=2) == "kill"
    assert collapse_runs("kiiilll", keep=1) == "kil"


def test_numbers_are_not_read_as_leetspeak() -> None:
    assert decode_leet("a 12 year old in 1990") == "a 12 year old in 1990"
    assert "12" in {t.text for t in tokenize(canonical("a 12 year old"))}


def test_ordinary_prompts_have_few_views() -> None:
    assert [v.text for v in normalize("a lighthouse at dusk").views] == ["a lighthouse at dusk"]
    assert "a blood-orange" in texts("a blood-orange")  # hyphenated words are not glued together


def test_chinese_is_kept_and_tokenised_by_character() -> None:
    prompt = normalize("儿 童 色 情，水彩")
    assert prompt.canonical == "儿 童 色 情,水彩"  # full-width comma → ASCII; characters untouched
    assert [t.text for t in tokenize("儿*童-色 情")] == ["儿", "童", "色", "情"]
    assert [t.text for t in tokenize(canonical("AV女优"))] == ["av", "女", "优"]


def test_join_spaced_leaves_words_alone() -> None:
    assert join_spaced("a cat on a mat") == "a cat on a mat"
    assert join_spaced("a c a t sleeping") == "a cat sleeping"
