"""The curated category lexicons (``bot/safety/data/*.txt``) and the rules that combine their hits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import regex

from bot.safety.levels import Category, Level, Tier, blocks
from bot.safety.normalize import Normalized
from bot.safety.terms import AllowList, TermSet

SECTIONS = ("strict", "standard", "always", "subject", "context")
_NUMBERS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
]
_AGE = regex.compile(
    r"\b(\d{1,2}|" + "|".join(_NUMBERS) + r")\s*[- ]?\s*(?:years?|yrs?|yr)[\s-]*old\b"
    r"|\b(\d{1,2})\s*(?:yo|y/o|y\.o\.?)\b|\bage[sd]?\s*(\d{1,2})\b"
)
_ZH_AGE = regex.compile(r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:岁|周岁)")
_ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon term found in a prompt."""

    category: Category
    section: str
    term: str


@dataclass(frozen=True, slots=True)
class Finding:
    """Why the lexicons block a prompt: the category and the term (for logs, never for members)."""

    category: Category
    term: str


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
    return _ZH_DIGITS.get(text, 99)


def minor_age(text: str) -> bool:
    """Whether the text gives someone an age under 18 ("a 12 year old", "13yo", "age 10", "十二岁")."""
    for match in _AGE.finditer(text):
        value = next(g for g in match.groups() if g)
        age = int(value) if value.isdigit() else _NUMBERS.index(value) + 1
        if age < 18:
            return True
    return any(_zh_number(m.group(1)) < 18 for m in _ZH_AGE.finditer(text))


class Lexicon:
    """Every category's terms in one term set, plus the shared allow list."""

    def __init__(self, entries: Iterable[tuple[str, Category, str]], allow: Iterable[str]):
        self.terms: TermSet[tuple[Category, str]] = TermSet(
            ((term, (category, section)) for term, category, section in entries), name="lexicon"
        )
        self.allow = AllowList(allow, name="lexicon allow list")
        self.vocabulary = frozenset(w for w in self.terms.vocabulary if w.isascii() and len(w) > 2)

    @classmethod
    def load(cls, directory: Path | None = None) -> Lexicon:
        """The lexicons shipped in the package (or those in ``directory``)."""
        root = directory or Path(str(resources.files("bot.safety") / "data"))
        entries: list[tuple[str, Category, str]] = []
        for category in Category:
            entries += [(t, category, s) for s, t in read_sections(root / f"{category.value}.txt")]
        allow = [t for _, t in read_sections(root / "allow.txt", default="allow")]
        return cls(entries, allow)

    def hits(self, prompt: Normalized) -> list[Hit]:
        """Every term found in any view and not exempted by the allow list."""
        found: dict[tuple[Category, str], Hit] = {}
        for match in self.terms.find(prompt):
            key = match.keyword.payload
            if key not in found and not self.allow.exempts(match):
                found[key] = Hit(key[0], key[1], match.keyword.source)
        return list(found.values())

    def judge(
        self, prompt: Normalized, level: Level, *, only: frozenset[Category] | None = None
    ) -> Finding | None:
        """The category that blocks the prompt at ``level``, or None; ``only`` limits the categories."""
        hits = self.hits(prompt)
        return decide(hits, level, minor=minor_age(prompt.canonical), only=only)


def decide(
    hits: list[Hit], level: Level, *, minor: bool = False, only: frozenset[Category] | None = None
) -> Finding | None:
    """Apply the level's policy to the lexicon hits (see docs/safety.md for the table)."""
    by = {(h.category, h.section): h.term for h in hits}

    def tiered(category: Category) -> str | None:
        for tier in (Tier.ALWAYS, Tier.STANDARD, Tier.STRICT):
            term = by.get((category, tier.value))
            if term is not None and blocks(level, tier):
                return term
        return None

    def any_of(category: Category) -> str | None:
        return next((by[(category, t.value)] for t in Tier if (category, t.value) in by), None)

    def allowed(category: Category) -> bool:
        return only is None or category in only

    sexual = any_of(Category.SEXUAL)
    if allowed(Category.MINORS):
        if (Category.MINORS, "always") in by:
            return Finding(Category.MINORS, by[(Category.MINORS, "always")])
        subject = by.get((Category.MINORS, "subject"))
        if sexual and (subject or minor):
            return Finding(Category.MINORS, f"{subject or 'age'} + {sexual}")
    for category in (Category.SELF_HARM, Category.HATE, Category.EXTREMISM):
        term = tiered(category) if allowed(category) else None
        if term:
            return Finding(category, term)
    group = by.get((Category.HATE, "subject"))
    if group and (Category.HATE, "context") in by and allowed(Category.HATE):
        return Finding(Category.HATE, f"{group} + {by[(Category.HATE, 'context')]}")
    if allowed(Category.REAL_PEOPLE):
        if (Category.REAL_PEOPLE, "always") in by:
            return Finding(Category.REAL_PEOPLE, by[(Category.REAL_PEOPLE, "always")])
        person = by.get((Category.REAL_PEOPLE, "subject"))
        if person:
            context = sexual or any_of(Category.VIOLENCE) or by.get((Category.REAL_PEOPLE, "context"))
            if context:
                return Finding(Category.REAL_PEOPLE, f"{person} + {context}")
            if level is Level.STRICT:
                return Finding(Category.REAL_PEOPLE, person)
    for category in (Category.SEXUAL, Category.VIOLENCE):
        term = tiered(category) if allowed(category) else None
        if term:
            return Finding(category, term)
    return None


def read_sections(path: Path, *, default: str = "always") -> list[tuple[str, str]]:
    """``(section, term)`` for each entry of a lexicon file; ``#`` starts a comment line."""
    out: list[tuple[str, str]] = []
    section = default
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]") and line[1:-1] in SECTIONS:
            section = line[1:-1]
            continue
        out.append((section, line))
    return out
