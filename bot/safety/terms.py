"""Blocked-term lists with Discord AutoMod's wildcard semantics, matched against a prompt's views.

``word`` matches the whole word, ``*word`` a word ending in it, ``word*`` a word starting with it and
``*word*`` anywhere inside a word; a phrase (``kill you``) matches consecutive words. Terms are
normalised like prompts, so ``Nude`` in a list matches ``ｎｕｄｅ``, ``n.u.d.e`` and ``nuuude``. An
allow-list entry exempts any match that lies inside one of its own matches (``blood orange`` exempts
``blood``). Chinese terms match character by character, wherever they stand.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.safety.normalize import Normalized, Token, View, collapse_runs, normalize_term, tokenize

log = logging.getLogger(__name__)
P = TypeVar("P")

MAX_KEYWORDS = 1000
MAX_KEYWORD_LENGTH = 60
MAX_ALLOW = 1000
# a term with doubled letters also matches with every run cut to one letter only from this length on,
# so "shooting" matches "shoooting" but "ass" never matches "as"
MIN_COLLAPSED_LENGTH = 5


@dataclass(frozen=True, slots=True)
class Keyword(Generic[P]):
    """One parsed entry: its tokens, whether it may start or end inside a word, and what it stands for."""

    source: str
    tokens: tuple[str, ...]
    leading: bool
    trailing: bool
    payload: P


@dataclass(frozen=True, slots=True)
class Match(Generic[P]):
    """Where a keyword matched, in one view's text."""

    keyword: Keyword[P]
    view: View
    start: int
    end: int


def parse(entry: str) -> tuple[str, bool, bool]:
    """``*word*`` → (``word``, leading, trailing); only a ``*`` at either end is a wildcard."""
    core = entry.strip()
    leading = core.startswith("*")
    trailing = core.endswith("*") and len(core) > 1
    return core.strip("*").strip(), leading, trailing


class _Index(Generic[P]):
    """Keywords by the shape of their first token, for one spelling (as written, or runs collapsed)."""

    def __init__(self) -> None:
        self.exact: dict[str, list[Keyword[P]]] = defaultdict(list)
        self.prefix: dict[str, list[Keyword[P]]] = defaultdict(list)
        self.suffix: dict[str, list[Keyword[P]]] = defaultdict(list)
        self.infix: dict[str, list[Keyword[P]]] = defaultdict(list)
        self.prefix_lengths: set[int] = set()
        self.suffix_lengths: set[int] = set()
        self.infix_lengths: set[int] = set()

    def add(self, kw: Keyword[P]) -> None:
        first = kw.tokens[0]
        single = len(kw.tokens) == 1
        if single and kw.leading and kw.trailing:
            self.infix[first].append(kw)
            self.infix_lengths.add(len(first))
        elif kw.leading:
            self.suffix[first].append(kw)
            self.suffix_lengths.add(len(first))
        elif single and kw.trailing:
            self.prefix[first].append(kw)
            self.prefix_lengths.add(len(first))
        else:
            self.exact[first].append(kw)

    def find(self, view: View) -> Iterator[Match[P]]:
        tokens = view.tokens
        for i, tok in enumerate(tokens):
            t = tok.text
            for kw in self.exact.get(t, ()):
                end = _rest(kw, tokens, i)
                if end is not None:
                    yield Match(kw, view, tok.start, end)
            n = len(t)
            for length in self.prefix_lengths:
                if length <= n:
                    for kw in self.prefix.get(t[:length], ()):
                        yield Match(kw, view, tok.start, tok.start + length)
            for length in self.suffix_lengths:
                if length <= n:
                    for kw in self.suffix.get(t[n - length :], ()):
                        end = _rest(kw, tokens, i)
                        if end is not None:
                            yield Match(kw, view, tok.end - length, end)
            for length in self.infix_lengths:
                for j in range(n - length + 1):
                    for kw in self.infix.get(t[j : j + length], ()):
                        yield Match(kw, view, tok.start + j, tok.start + j + length)


def _rest(kw: Keyword[P], tokens: Sequence[Token], i: int) -> int | None:
    """The end offset when the keyword's later tokens follow token ``i``, else None."""
    count = len(kw.tokens)
    if count == 1:
        return tokens[i].end
    if i + count > len(tokens):
        return None
    for k in range(1, count - 1):
        if tokens[i + k].text != kw.tokens[k]:
            return None
    last, want = tokens[i + count - 1], kw.tokens[-1]
    if kw.trailing:
        return last.start + len(want) if last.text.startswith(want) else None
    return last.end if last.text == want else None


class TermSet(Generic[P]):
    """A compiled list of wildcard terms, each with a payload, matched against a prompt's views."""

    def __init__(self, entries: Iterable[tuple[str, P]], *, limit: int | None = None, name: str = "terms"):
        self._plain: _Index[P] = _Index()
        self._collapsed: _Index[P] = _Index()
        self._shortened: _Index[P] = _Index()  # only the terms that collapsing changed
        self.vocabulary: set[str] = set()
        self.size = 0
        for entry, payload in entries:
            if limit is not None and self.size >= limit:
                log.warning("%s: more than %d entries, the rest are ignored", name, limit)
                break
            if len(entry) > MAX_KEYWORD_LENGTH:
                log.warning(
                    "%s: entry longer than %d characters ignored: %r", name, MAX_KEYWORD_LENGTH, entry
                )
                continue
            core, leading, trailing = parse(entry)
            tokens = tuple(t.text for t in tokenize(normalize_term(core)))
            if not tokens:
                continue
            self.size += 1
            kw = Keyword(entry, tokens, leading, trailing, payload)
            self._plain.add(kw)
            self.vocabulary.update(tokens)
            once = tuple(collapse_runs(t, keep=1) for t in tokens)
            if once == tokens or len(" ".join(once)) >= MIN_COLLAPSED_LENGTH:
                self._collapsed.add(Keyword(entry, once, leading, trailing, payload))
                if once != tokens:
                    self._shortened.add(Keyword(entry, once, leading, trailing, payload))

    def __len__(self) -> int:
        return self.size

    def find_in(self, view: View) -> Iterator[Match[P]]:
        """Matches in one view."""
        if view.collapsed:
            yield from self._collapsed.find(view)
            return
        yield from self._plain.find(view)
        if view.single:  # "shoting" is already collapsed: it may match "shooting" too
            yield from self._shortened.find(view)

    def find(self, prompt: Normalized) -> Iterator[Match[P]]:
        """Matches in every view of the prompt (a term may match in several)."""
        for view in prompt.views:
            yield from self.find_in(view)


class AllowList:
    """Entries that exempt a match lying inside one of theirs."""

    def __init__(self, entries: Iterable[str], *, name: str = "allow_list"):
        self.terms: TermSet[None] = TermSet(((e, None) for e in entries), limit=MAX_ALLOW, name=name)

    def spans(self, view: View) -> list[tuple[int, int]]:
        return [(m.start, m.end) for m in self.terms.find_in(view)]

    def exempts(self, match: Match[P]) -> bool:
        return self.covers(match.view, match.start, match.end)

    def covers(self, view: View, start: int, end: int) -> bool:
        if not len(self.terms):
            return False
        return any(s <= start and end <= e for s, e in self.spans(view))


def first_blocked(terms: TermSet[P], prompt: Normalized, allow: AllowList | None = None) -> Match[P] | None:
    """The first match not exempted by the allow list, or None."""
    for match in terms.find(prompt):
        if allow is None or not allow.exempts(match):
            return match
    return None


def all_blocked(terms: TermSet[P], prompt: Normalized, allow: AllowList | None = None) -> list[Match[P]]:
    """Every match not exempted by the allow list."""
    return [m for m in terms.find(prompt) if allow is None or not allow.exempts(m)]
