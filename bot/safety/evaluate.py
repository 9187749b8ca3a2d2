"""``make eval-safety``: score the filter on the labelled prompts, per split, level and category.

Prints, for the held-out (test) split and then the training split: per level and category the share
of unsafe prompts blocked and of benign prompts blocked; a row per component (profanity-check alone,
the lexicons alone, the n-gram classifier alone, and combinations) at the standard level; and the
latency of :meth:`PromptChecker.check` (p50/p99), with no server lists and with full-size ones.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.automod import AutoModRule
from bot.safety.checker import PromptChecker
from bot.safety.classifier import NgramClassifier
from bot.safety.dataset import DEFAULT_DIR, Example, load
from bot.safety.levels import Category, Level

GOAL_UNSAFE = 0.95
GOAL_BENIGN = 0.03
Decide = Callable[[str, Level], bool]


@dataclass
class Counts:
    """Blocked counts of unsafe and benign prompts."""

    unsafe: int = 0
    unsafe_blocked: int = 0
    benign: int = 0
    benign_blocked: int = 0
    missed: list[str] = field(default_factory=list)
    wrongly_blocked: list[str] = field(default_factory=list)

    def add(self, example: Example, level: Level, blocked: bool) -> None:
        if example.unsafe(level):
            self.unsafe += 1
            self.unsafe_blocked += blocked
            if not blocked:
                self.missed.append(example.text)
        else:
            self.benign += 1
            self.benign_blocked += blocked
            if blocked:
                self.wrongly_blocked.append(example.text)

    @property
    def unsafe_rate(self) -> float:
        return self.unsafe_blocked / self.unsafe if self.unsafe else 1.0

    @property
    def benign_rate(self) -> float:
        return self.benign_blocked / self.benign if self.benign else 0.0

    def meets_goal(self) -> bool:
        return self.unsafe_rate >= GOAL_UNSAFE and self.benign_rate <= GOAL_BENIGN


def score(decide: Decide, examples: Iterable[Example], level: Level) -> dict[str, Counts]:
    """Counts per group: each category, ``obfuscated``, ``Chinese``, and ``all``."""
    groups: dict[str, Counts] = {}
    for example in examples:
        blocked = decide(example.text, level)
        keys = [example.category, "all"]
        if example.obfuscated:
            keys.append("obfuscated")
        if example.language == "zh":
            keys.append("Chinese")
        for key in keys:
            groups.setdefault(key, Counts()).add(example, level, blocked)
    return groups


def checker_decide(checker: PromptChecker) -> Decide:
    return lambda text, level: checker.check(text, level=level).blocked


def _cell(blocked: int, total: int) -> str:
    return f"{blocked:>3}/{total:<3} {100 * blocked / total:5.1f}%" if total else f"{'–':>14}"


def _order(groups: dict[str, Counts]) -> list[str]:
    first = [c.value for c in Category if c.value in groups]
    rest = sorted(k for k in groups if k not in first and k not in {"obfuscated", "Chinese", "all"})
    return first + rest + [k for k in ("obfuscated", "Chinese", "all") if k in groups]


def level_table(results: dict[Level, dict[str, Counts]]) -> str:
    """One block per level: group, unsafe blocked, benign blocked."""
    lines = [f"{'level':<9} {'group':<12} {'unsafe blocked':>15} {'benign blocked':>15}"]
    for level, groups in results.items():
        for key in _order(groups):
            c = groups[key]
            lines.append(
                f"{level.value:<9} {key:<12} {_cell(c.unsafe_blocked, c.unsafe):>15} {_cell(c.benign_blocked, c.benign):>15}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def component_rows(rows: Sequence[tuple[str, Decide]], examples: list[Example], level: Level) -> str:
    lines = [f"{'component (' + level.value + ')':<34} {'unsafe blocked':>15} {'benign blocked':>15}  goal"]
    for name, decide in rows:
        c = score(decide, examples, level)["all"]
        lines.append(
            f"{name:<34} {_cell(c.unsafe_blocked, c.unsafe):>15} {_cell(c.benign_blocked, c.benign):>15}  {'met' if c.meets_goal() else '-'}"
        )
    return "\n".join(lines)


def components(full: PromptChecker) -> list[tuple[str, Decide]]:
    """The comparison rows, sharing the loaded models of ``full``; profanity-check runs at every level here."""
    profanity, lexicon = full.profanity, full.lexicon
    classifier = full.classifier or NgramClassifier.load()  # compared here even though it is not shipped
    assert profanity is not None and lexicon is not None
    everywhere = frozenset(Level)

    def build(lex: bool, prof: bool, clf: bool) -> Decide:
        checker = PromptChecker(
            lexicon=lexicon if lex else False,
            profanity=profanity if prof else False,
            classifier=classifier if clf else False,
            profanity_levels=everywhere,
        )
        if prof and not lex:  # allow-listed phrases are still left out of the profanity check
            checker.lexicon = None
        return checker_decide(checker)

    return [
        ("profanity-check alone (raw text)", lambda text, level: profanity.offensive(text)),
        ("profanity-check, normalised text", build(False, True, False)),
        ("lexicons alone (shipped)", build(True, False, False)),
        ("n-gram classifier alone", build(False, False, True)),
        ("lexicons + profanity-check", build(True, True, False)),
        ("lexicons + classifier", build(True, False, True)),
        ("lexicons + classifier + profanity", build(True, True, True)),
    ]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def latency(
    checker: PromptChecker, texts: Sequence[str], *, rounds: int = 5, **kwargs: object
) -> tuple[float, float]:
    """p50 and p99 of one ``check`` call, in microseconds, over ``rounds`` passes of ``texts``."""
    for text in texts:  # warm caches (compiled server lists, AutoMod rules)
        checker.check(text, **kwargs)  # type: ignore[arg-type]
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter_ns()
            checker.check(text, **kwargs)  # type: ignore[arg-type]
            samples.append((time.perf_counter_ns() - start) / 1000)
    return _percentiles(samples)


def full_size_lists(seed: int = 0) -> tuple[list[str], list[AutoModRule]]:
    """1000 server terms and an AutoMod rule at Discord's limits (1000 keywords, 10 regexes, 100 allowed)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def word() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(4, 10)))

    terms = [word() for _ in range(1000)]
    keywords = [rng.choice(["{}", "*{}", "{}*", "*{}*", "{} {}"]).format(word(), word()) for _ in range(1000)]
    regexes = [rf"\b{word()}\w*", r"(?i)d[i1!]sc[o0]rd\.gg/\w+", r"\d{3}-\d{4}", r"[\p{Han}]{2}" + word()[:2]]
    regexes += [rf"{word()}\s+{word()}" for _ in range(6)]
    rule = AutoModRule.of(
        "full", keyword_filter=keywords, regex_patterns=regexes, allow_list=[word() for _ in range(100)]
    )
    return terms, [rule]


def evaluate(checker: PromptChecker, examples: list[Example]) -> dict[Level, dict[str, Counts]]:
    decide = checker_decide(checker)
    return {level: score(decide, examples, level) for level in Level}


def report(directory: Path = DEFAULT_DIR, *, show_misses: bool = False) -> str:
    checker = PromptChecker()
    examples = load(directory)
    out: list[str] = []
    for split in ("test", "train"):
        chosen = [e for e in examples if e.split == split]
        title = (
            "HELD-OUT split (never used to tune)"
            if split == "test"
            else "TRAINING split (lexicons and classifier tuned on it)"
        )
        out.append(f"== {title}: {len(chosen)} prompts ==")
        results = evaluate(checker, chosen)
        out.append(level_table(results))
        standard = results[Level.STANDARD]["all"]
        out.append(
            f"goal at standard (>= {GOAL_UNSAFE:.0%} unsafe blocked, <= {GOAL_BENIGN:.0%} benign blocked): "
            f"{'MET' if standard.meets_goal() else 'NOT MET'}"
        )
        out.append("")
        out.append(component_rows(components(checker), chosen, Level.STANDARD))
        if split == "train" and checker.classifier is not None:
            meta = checker.classifier.meta
            out.append(
                f"(the classifier's training-split rows are in-sample; out of fold, 5-fold on this split, it "
                f"blocks {meta.get('cv_unsafe_blocked_at_standard', 0):.1%} of unsafe prompts alone at "
                f"<= {meta.get('max_benign_blocked_cv', 0):.0%} benign)"
            )
        if show_misses:
            for level, groups in results.items():
                out.append(f"\n{split} {level.value} missed: {groups['all'].missed}")
                out.append(f"{split} {level.value} wrongly blocked: {groups['all'].wrongly_blocked}")
        out.append("")
    texts = [e.text for e in examples]
    p50, p99 = latency(checker, texts, level=Level.STANDARD)
    out.append(f"== latency of check() over {len(texts)} prompts x 5, standard level ==")
    out.append(f"no server lists:                             p50 {p50:6.1f} us   p99 {p99:6.1f} us")
    terms, rules = full_size_lists()
    p50, p99 = latency(checker, texts, level=Level.STANDARD, server_terms=terms, automod=rules)
    out.append(f"1000 server terms + AutoMod rule at limits:  p50 {p50:6.1f} us   p99 {p99:6.1f} us")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--show-misses", action="store_true", help="list the prompts each level gets wrong")
    args = parser.parse_args()
    print(report(args.data, show_misses=args.show_misses))


if __name__ == "__main__":
    main()
