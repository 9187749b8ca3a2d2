"""A server's AutoMod keyword rules as inputs to the check (fetching them from Discord is not done here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.safety.normalize import Normalized, View
from bot.safety.rust_regex import RustPattern, compile_patterns
from bot.safety.terms import MAX_KEYWORDS, AllowList, TermSet

PRESETS = frozenset({"profanity", "sexual_content", "slurs"})


@dataclass(frozen=True)
class AutoModRule:
    """One AutoMod rule's trigger metadata, as Discord returns it (``keyword`` or ``keyword_preset``).

    ``presets`` names Discord's preset lists (``profanity``, ``sexual_content``, ``slurs``); Discord does
    not publish them, so they map to this filter's own profanity check, sexual lexicon and hate lexicon.
    """

    name: str = "AutoMod"
    keyword_filter: tuple[str, ...] = ()
    regex_patterns: tuple[str, ...] = ()
    allow_list: tuple[str, ...] = ()
    presets: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        name: str = "AutoMod",
        *,
        keyword_filter: Iterable[str] = (),
        regex_patterns: Iterable[str] = (),
        allow_list: Iterable[str] = (),
        presets: Iterable[str] = (),
    ) -> AutoModRule:
        """Build from any iterables (the dataclass itself keeps tuples so that it is hashable)."""
        return cls(
            name,
            tuple(keyword_filter),
            tuple(regex_patterns),
            tuple(allow_list),
            frozenset(presets) & PRESETS,
        )


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to match: its keywords, regexes and allow list compiled once."""

    rule: AutoModRule
    keywords: TermSet[str] = field(repr=False)
    patterns: tuple[RustPattern, ...] = field(repr=False)
    allow: AllowList = field(repr=False)

    @classmethod
    def compile(cls, rule: AutoModRule) -> CompiledRule:
        keywords: TermSet[str] = TermSet(
            ((k, k) for k in rule.keyword_filter), limit=MAX_KEYWORDS, name=f"AutoMod rule {rule.name!r}"
        )
        return cls(rule, keywords, compile_patterns(rule.regex_patterns), AllowList(rule.allow_list))

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.keywords.vocabulary)

    def matched(self, prompt: Normalized, raw: View) -> str | None:
        """The keyword or pattern that matched (not exempted by the allow list), or None."""
        for match in self.keywords.find(prompt):
            if not self.allow.exempts(match):
                return match.keyword.source
        if not self.patterns:
            return None
        decoded = next((v for v in prompt.views if v.text == prompt.decoded), None) or View.of(prompt.decoded)
        views = list({v.text: v for v in (raw, prompt.views[0], decoded)}.values())
        for pattern in self.patterns:
            for view in views:
                for start, end in pattern.spans(view.text):
                    if not self.allow.covers(view, start, end):
                        return pattern.source
        return None


def compile_rules(rules: Sequence[AutoModRule]) -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule.compile(r) for r in rules)
