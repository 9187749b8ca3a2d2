"""The checker's inputs (operator, server and AutoMod lists), its order, and the member-facing reason."""

from __future__ import annotations

import re
import subprocess
import sys

from bot.safety import REASONS, AutoModRule, PromptChecker, Verdict
from bot.safety.levels import Category, Level
from bot.safety.reasons import locale_of


def test_allowed_verdict(checker: PromptChecker) -> None:
    verdict = checker.check("a lighthouse at dusk, watercolour")
    assert verdict == Verdict(False)
    assert verdict.rule is None and verdict.reason() == "" and verdict.reason_key is None


def test_operator_terms_come_first() -> None:
    checker = PromptChecker(["dragon*"], operator_allow=["dragonfly"], profanity=False)
    verdict = checker.check("a d.r.a.g.o.n.s hoard", server_terms=["hoard"])
    assert (verdict.rule, verdict.matched) == ("operator_terms", "dragon*")
    assert checker.check("a dragonfly on a pond").blocked is False


def test_server_terms(checker: PromptChecker) -> None:
    verdict = checker.check("a c4t on a mat", server_terms=["cat", "*dog*"])
    assert (verdict.rule, verdict.source) == ("server_terms", "terms")
    assert checker.check("hotdogs", server_terms=["*dog*"]).rule == "server_terms"
    assert not checker.check("a cat", server_terms=()).blocked


def test_automod_keywords_regexes_allow_list(checker: PromptChecker) -> None:
    rule = AutoModRule.of(
        "No spam",
        keyword_filter=["free nitro", "*coin"],
        regex_patterns=[r"d[i1]sc[o0]rd\.gg/\w+", r"(?=bad)"],
        allow_list=["bitcoin"],
    )
    verdict = checker.check("FREE  N1TRO for everyone", automod=[rule])
    assert (verdict.rule, verdict.detail) == ("automod", "No spam")
    assert "No spam" in verdict.reason("en") and "No spam" in verdict.reason("zh-CN")
    assert checker.check("join discord.gg/abc", automod=[rule]).rule == "automod"
    assert not checker.check("a bitcoin logo", automod=[rule]).blocked  # allow list
    assert checker.check("a dogecoin logo", automod=[rule]).rule == "automod"


def test_automod_presets_map_to_our_lists(checker: PromptChecker) -> None:
    presets = AutoModRule.of("Presets", presets=["sexual_content", "slurs", "profanity", "unknown"])
    assert presets.presets == frozenset({"sexual_content", "slurs", "profanity"})
    # at relaxed, explicit adult content is allowed, but the server's sexual-content preset still applies
    assert checker.check("a naked woman", level=Level.RELAXED).blocked is False
    verdict = checker.check("a naked woman", level=Level.RELAXED, automod=[presets])
    assert verdict.rule == "automod" and verdict.matched == "preset:sexual_content"
    assert (
        checker.check("what the fuck", level=Level.RELAXED, automod=[presets]).matched == "preset:profanity"
    )


def test_negative_prompts_only_use_term_lists_and_hate(checker: PromptChecker) -> None:
    assert not checker.check("nude, nsfw, blood, gore", negative=True).blocked
    assert checker.check("nude", negative=True, server_terms=["nude"]).rule == "server_terms"
    assert checker.check("k1ke", negative=True).rule == "category:hate"


def test_reasons_name_the_rule_never_a_score_or_term(checker: PromptChecker) -> None:
    verdict = checker.check("n4ked woman on a bed")
    assert verdict.category is Category.SEXUAL and verdict.reason_key == "safety.category.sexual"
    for locale in ("en", "en-US", "zh-CN", "zh-TW", None):
        text = verdict.reason(locale)
        assert text and "naked" not in text and not re.search(r"\d\.\d|%", text)
    assert "色情" in verdict.reason("zh-CN")
    assert locale_of("zh-TW") == "zh-CN" and locale_of("fr") == "en"
    assert REASONS["en"].keys() == REASONS["zh-CN"].keys()
    for key in REASONS["en"]:
        rule = key.removeprefix("safety.").replace(".", ":")
        assert Verdict(True, rule).reason("en") == REASONS["en"][key].format(detail="AutoMod")


def test_compiled_lists_are_cached(checker: PromptChecker) -> None:
    terms = [f"term{i}" for i in range(1000)]
    rule = AutoModRule.of("big", keyword_filter=terms)
    checker.check("x", server_terms=terms, automod=[rule])
    server, automod = checker._server_terms(terms), checker._compiled(rule)
    checker.check("y", server_terms=list(terms), automod=[AutoModRule.of("big", keyword_filter=terms)])
    assert checker._server_terms(terms) is server and checker._compiled(rule) is automod


def test_the_check_never_imports_torch_or_models() -> None:
    code = (
        "import sys; from bot.safety import PromptChecker; PromptChecker().check('a naked woman'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'transformers', 'sentence_transformers', 'models', 'workers'}]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
