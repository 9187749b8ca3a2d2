"""The prompt safety check: one entry point, :class:`PromptChecker`, and its :class:`Verdict`."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.safety.automod import AutoModRule, CompiledRule
from bot.safety.classifier import NgramClassifier
from bot.safety.levels import PROFANITY_LEVELS, Category, Level, Tier
from bot.safety.lexicon import Hit, Lexicon, decide, minor_age
from bot.safety.normalize import Normalized, View, normalize
from bot.safety.profanity import ProfanityScorer
from bot.safety.reasons import reason_text
from bot.safety.terms import MAX_KEYWORDS, AllowList, TermSet, first_blocked

log = logging.getLogger(__name__)
_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a check.

    ``rule`` is a short stable name: ``operator_terms``, ``server_terms``, ``automod``, ``profanity`` or
    ``category:<name>`` (``category:minors``, ``category:sexual``, …). ``reason(locale)`` is the sentence
    a member is shown. ``matched`` (the term or pattern), ``detail`` (the AutoMod rule's name) and
    ``source`` (``terms``, ``lexicon``, ``classifier``, ``profanity``) are for moderators' logs only.
    """

    blocked: bool
    rule: str | None = None
    detail: str = ""
    matched: str = ""
    source: str = ""

    @property
    def reason_key(self) -> str | None:
        """The key of the member-facing reason (``safety.category.minors``…), or None when allowed."""
        return None if self.rule is None else "safety." + self.rule.replace(":", ".")

    def reason(self, locale: str | None = None) -> str:
        """The member-facing sentence, English or Simplified Chinese; empty when allowed."""
        key = self.reason_key
        return "" if key is None else reason_text(key, locale, detail=self.detail)

    @property
    def category(self) -> Category | None:
        if self.rule and self.rule.startswith("category:"):
            return Category(self.rule.partition(":")[2])
        return None


ALLOWED = Verdict(False)


def _category(category: Category, *, matched: str = "", source: str = "lexicon") -> Verdict:
    return Verdict(True, f"category:{category.value}", matched=matched, source=source)


class PromptChecker:
    """Checks prompts, negative prompts and button texts against every list and classifier.

    Build one per process (loading the profanity model takes a few seconds) and call :meth:`check`.
    ``operator_terms``/``operator_allow`` come from the operator's configuration. The component
    switches exist for the evaluation. The n-gram classifier is off by default: on the labelled set it
    caught nothing the lexicons missed, and on everyday short prompts it blocked harmless ones
    ("hello" as extremism, "two" as sexual, "a poster" as hate), so the bot does not run it.
    """

    def __init__(
        self,
        operator_terms: Sequence[str] = (),
        *,
        operator_allow: Sequence[str] = (),
        lexicon: Lexicon | bool = True,
        profanity: ProfanityScorer | bool = True,
        classifier: NgramClassifier | bool = False,
        profanity_levels: frozenset[Level] = PROFANITY_LEVELS,
    ):
        self.operator_terms: TermSet[str] = TermSet(((t, t) for t in operator_terms), name="operator terms")
        self.operator_allow = AllowList(operator_allow, name="operator allow list")
        self.lexicon: Lexicon | None = Lexicon.load() if lexicon is True else (lexicon or None)
        self.profanity: ProfanityScorer | None = (
            ProfanityScorer.from_package() if profanity is True else (profanity or None)
        )
        self.classifier: NgramClassifier | None = (
            NgramClassifier.load() if classifier is True else (classifier or None)
        )
        self.profanity_levels = profanity_levels
        vocabulary = set(self.operator_terms.vocabulary)
        if self.lexicon is not None:
            vocabulary |= self.lexicon.vocabulary
        self.vocabulary = frozenset(w for w in vocabulary if w.isascii() and len(w) > 2)
        self._server: OrderedDict[tuple[str, ...], TermSet[str]] = OrderedDict()
        self._automod: OrderedDict[AutoModRule, CompiledRule] = OrderedDict()

    def normalize(self, text: str) -> Normalized:
        return normalize(text, vocabulary=self.vocabulary)

    def check(
        self,
        text: str,
        *,
        level: Level | str = Level.STANDARD,
        server_terms: Sequence[str] = (),
        automod: Sequence[AutoModRule] | None = None,
        negative: bool = False,
    ) -> Verdict:
        """Whether ``text`` may be used at ``level``, and if not, which rule stops it.

        The order: operator terms, server terms, AutoMod rules, the category lexicons, the n-gram
        classifier, the profanity check. ``negative=True`` (a negative prompt, which says what to
        keep *out* of an image) checks only the term lists, AutoMod and the hate lexicon.
        """
        level = Level(level)
        prompt = self.normalize(text)
        match = first_blocked(self.operator_terms, prompt, self.operator_allow)
        if match is not None:
            return Verdict(True, "operator_terms", matched=match.keyword.source, source="terms")
        if server_terms:
            match = first_blocked(self._server_terms(server_terms), prompt)
            if match is not None:
                return Verdict(True, "server_terms", matched=match.keyword.source, source="terms")
        hits: list[Hit] | None = None
        if automod:
            raw = View.of(text.lower())
            for rule in automod:
                compiled = self._compiled(rule)
                matched = compiled.matched(prompt, raw)
                if matched is None and rule.presets:
                    if hits is None:
                        hits = self.lexicon.hits(prompt) if self.lexicon else []
                    matched = self._preset(rule, prompt, hits)
                if matched is not None:
                    return Verdict(True, "automod", detail=rule.name, matched=matched, source="terms")
        if self.lexicon is not None:
            if hits is None:
                hits = self.lexicon.hits(prompt)
            only = frozenset({Category.HATE}) if negative else None
            finding = decide(hits, level, minor=minor_age(prompt.canonical), only=only)
            if finding is not None:
                return _category(finding.category, matched=finding.term)
        if negative:
            return ALLOWED
        if self.classifier is not None:
            category = self.classifier.judge(prompt.decoded, level)
            if category is not None:
                return _category(category, source="classifier")
        if self.profanity is not None and level in self.profanity_levels and self._offensive(prompt):
            return Verdict(True, "profanity", source="profanity")
        return ALLOWED

    def _offensive(self, prompt: Normalized) -> bool:
        """profanity-check on the decoded prompt, allow-listed phrases ("pussy willow") left out."""
        assert self.profanity is not None
        text = prompt.decoded
        if self.lexicon is not None:
            view = next((v for v in prompt.views if v.text == text), None) or View.of(text)
            for start, end in sorted(self.lexicon.allow.spans(view), reverse=True):
                text = text[:start] + " " + text[end:]
        return self.profanity.offensive(text)

    def _preset(self, rule: AutoModRule, prompt: Normalized, hits: list[Hit]) -> str | None:
        if "slurs" in rule.presets:
            hit = next(
                (h for h in hits if h.category is Category.HATE and h.section == Tier.ALWAYS.value), None
            )
            if hit:
                return f"preset:slurs ({hit.term})"
        if "sexual_content" in rule.presets:
            sexual = [h for h in hits if h.category is Category.SEXUAL and h.section != Tier.STRICT.value]
            if sexual or any(h.category is Category.MINORS and h.section == "always" for h in hits):
                return "preset:sexual_content"
        if "profanity" in rule.presets and self.profanity is not None and self._offensive(prompt):
            return "preset:profanity"
        return None

    def _server_terms(self, terms: Sequence[str]) -> TermSet[str]:
        key = tuple(terms)
        found = self._server.get(key)
        if found is None:
            found = TermSet(((t, t) for t in key), limit=MAX_KEYWORDS, name="server terms")
            self._server[key] = found
            if len(self._server) > _CACHE_SIZE:
                self._server.popitem(last=False)
        else:
            self._server.move_to_end(key)
        return found

    def _compiled(self, rule: AutoModRule) -> CompiledRule:
        found = self._automod.get(rule)
        if found is None:
            found = CompiledRule.compile(rule)
            self._automod[rule] = found
            if len(self._automod) > _CACHE_SIZE:
                self._automod.popitem(last=False)
        else:
            self._automod.move_to_end(rule)
        return found
