"""The evasion normaliser: the views of a prompt that term lists and classifiers are matched against.

A prompt becomes a few *views*, each a case-folded string with its tokens: the canonical form (NFKC,
zero-width and combining characters removed, Cyrillic/Greek and other Latin look-alikes mapped), a
form with letters that were spaced or dotted apart joined again (``k.i.l.l``, ``k i l l``), forms with
leetspeak decoded (``k1ll``, ``h@te``, ``n*ked`` resolved against a vocabulary), and for each of those
a form with repeated letters collapsed. Tokens are runs of Latin letters and digits, or single CJK
characters, so Chinese is matched character by character whatever spaces or symbols were put between.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import regex

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_TOKEN = regex.compile(rf"[{CJK}]|[^\W_{CJK}]+")
_STRIP = regex.compile(r"[\p{Mn}\p{Me}\p{Cf}\u034f\u115f\u1160\u3164\uffa0]")
_CONTROL = regex.compile(r"[\p{Cc}_]")
_RUN3 = regex.compile(r"([^\W\d_])\1{2,}")
_RUN2 = regex.compile(r"([^\W\d_])\1+")
# single letters or digits separated by up to three non-word characters: "k.i.l.l", "s 3 x"
_SPACED = regex.compile(rf"(?<![\w])[^\W_{CJK}](?:[^\w{CJK}]{{1,3}}[^\W_{CJK}](?![\w])){{2,}}")
_SPACED_SEP = regex.compile(rf"[^\w{CJK}]+")
# dots and the like inside a word, between two letters: "ki.ll" (hyphens and apostrophes are left alone)
_INNER = regex.compile(r"(?<=[^\W\d_])[.·•~^\\:]+(?=[^\W\d_])")
_MASKED = regex.compile(r"\b[^\W\d_]+(?:\*+[^\W\d_]+)+\b")
_LEET_SYMBOL_INNER = regex.compile(r"(?<=\w)[!|+](?=\w)")
_LEET_SYMBOL_EDGE = regex.compile(r"[@$€¢](?=\w)|(?<=\w)[@$€¢]")
_WORD = regex.compile(r"\w+")

CONFUSABLES: dict[int, str] = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ь": "b", "ъ": "b", "г": "r", "ш": "w",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "μ": "u",
        "ν": "v", "ο": "o", "π": "n", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u", "χ": "x",
        "ω": "w", "θ": "o",
        # other Latin look-alikes NFKC leaves alone
        "ı": "i", "ɩ": "i", "ɑ": "a", "ɡ": "g", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ŧ": "t",
        "ƒ": "f", "ð": "d", "æ": "ae", "œ": "oe",
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
        "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
        "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    }
    | {chr(0x1F1E6 + i): chr(ord("a") + i) for i in range(26)}  # regional indicators 🇦..🇿
)  # fmt: skip
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "€": "e", "¢": "c", "!": "i", "|": "l", "+": "t",
}  # fmt: skip
_LEET_DIGITS = str.maketrans({k: v for k, v in LEET.items() if k.isdigit()})
_LEET_DIGITS_L = str.maketrans({k: ("l" if k == "1" else v) for k, v in LEET.items() if k.isdigit()})
MASK_FILL = "aeiouy"


class Token(NamedTuple):
    """A token of a view and where it stands in the view's text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class View:
    """One normalised form of a prompt; ``collapsed`` when repeated letters were reduced to one."""

    text: str
    collapsed: bool
    tokens: tuple[Token, ...] = field(compare=False, repr=False)
    single: bool = field(default=False, compare=False)  # no letter repeats: it is its own collapsed form

    @classmethod
    def of(cls, text: str, *, collapsed: bool = False) -> View:
        return cls(text, collapsed, tokenize(text), collapsed or _RUN2.search(text) is None)


@dataclass(frozen=True, slots=True)
class Normalized:
    """Every view of one prompt. ``views[0]`` is the canonical form; ``decoded`` the fullest decoding."""

    original: str
    views: tuple[View, ...]
    decoded: str

    @property
    def canonical(self) -> str:
        return self.views[0].text


def tokenize(text: str) -> tuple[Token, ...]:
    """Latin/digit runs and single CJK characters, with their offsets."""
    return tuple(Token(m.group(), *m.span()) for m in _TOKEN.finditer(text))


def canonical(text: str) -> str:
    """NFKC, zero-width/format and combining characters removed, case-folded, look-alikes mapped."""
    text = unicodedata.normalize("NFKC", text)
    text = _STRIP.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).casefold().translate(CONFUSABLES)
    return _CONTROL.sub(" ", text)


def collapse_runs(text: str, *, keep: int) -> str:
    """Runs of one letter longer than ``keep`` (1 or 2) become ``keep`` letters: ``killlll`` → ``kill``."""
    return (_RUN2 if keep == 1 else _RUN3).sub(r"\1" * keep, text)


def join_spaced(text: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """Join letters spaced or dotted apart (``k i l l``, ``n.u.d.e``) and drop punctuation inside words.

    A joined run is split again into vocabulary words where it can be (``s i e g h e i l`` → ``sieg
    heil``), and a leading article stays apart (``a m u t i l a t e d`` → ``a mutilated``).
    """

    def joined(match: regex.Match[str]) -> str:
        raw = match.group()
        run = _SPACED_SEP.sub("", raw)
        if sum(c.isalpha() for c in run) < 2:
            return raw
        article = ""
        if len(run) >= 4 and run[0] in "ai" and raw[1].isspace():
            article, run = run[0] + " ", run[1:]
        return article + (segment(run, vocabulary) or run)

    return _INNER.sub("", _SPACED.sub(joined, text))


def segment(run: str, vocabulary: frozenset[str], *, most: int = 3) -> str | None:
    """``run`` as up to ``most`` space-separated vocabulary words, or None when it cannot be split."""
    if run in vocabulary or not vocabulary:
        return None
    for cut in range(3, len(run) - 2):
        head, tail = run[:cut], run[cut:]
        if head in vocabulary:
            if tail in vocabulary:
                return f"{head} {tail}"
            if most > 2:
                rest = segment(tail, vocabulary, most=most - 1)
                if rest:
                    return f"{head} {rest}"
    return None


def decode_leet(text: str, *, one: str = "i", vocabulary: frozenset[str] = frozenset()) -> str:
    """Digits and symbols used as letters, inside words that have a letter: ``k1ll``, ``h@te``, ``$hit``.

    A ``*`` masking letters (``p*rn``, ``n*k*d``) is filled from ``vocabulary`` where one word fits.
    """
    text = _LEET_SYMBOL_INNER.sub(lambda m: LEET[m.group()], text)
    text = _LEET_SYMBOL_EDGE.sub(lambda m: LEET[m.group()], text)
    table = _LEET_DIGITS if one == "i" else _LEET_DIGITS_L

    def word(match: regex.Match[str]) -> str:
        w = match.group()
        if w.isdigit() or not any(c.isalpha() for c in w):
            return w
        return w.translate(table)

    text = _WORD.sub(word, text)
    if "*" in text:
        text = _MASKED.sub(lambda m: unmask(m.group(), vocabulary), text)
    return text


def unmask(word: str, vocabulary: frozenset[str]) -> str:
    """``p*rn`` → ``porn`` when exactly one vocabulary word fits the mask (one letter per ``*``)."""
    pattern = regex.compile("".join(f"[{MASK_FILL}]" if c == "*" else regex.escape(c) for c in word))
    fits = [w for w in vocabulary if len(w) == len(word) and pattern.fullmatch(w)]
    return fits[0] if len(fits) == 1 else word.replace("*", "")


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def normalize(text: str, *, vocabulary: frozenset[str] = frozenset()) -> Normalized:
    """All views of ``text`` (duplicates dropped, canonical first)."""
    base = canonical(text)
    joined = join_spaced(base, vocabulary)
    forms = [base, joined]
    decoded = joined
    if any(c in LEET or c == "*" for c in base):
        for one in ("i", "l") if "1" in base or "|" in base else ("i",):
            leet = decode_leet(base, one=one, vocabulary=vocabulary)
            full = decode_leet(join_spaced(leet, vocabulary), one=one, vocabulary=vocabulary)
            forms += [leet, full]
            if one == "i":
                decoded = full
    forms = _unique(collapse_runs(f, keep=2) for f in forms)
    decoded = collapse_runs(decoded, keep=2)
    views = [View.of(f) for f in forms]
    seen = set(forms)
    for f in forms:
        once = collapse_runs(f, keep=1)
        if once not in seen:
            seen.add(once)
            views.append(View.of(once, collapsed=True))
    return Normalized(text, tuple(views), decoded)


def normalize_term(term: str) -> str:
    """A blocked or allowed term as the views spell it: canonical, runs of three letters cut to two."""
    return collapse_runs(canonical(term), keep=2)
