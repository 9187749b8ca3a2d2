"""The prompt safety filter: evasion-resistant term matching, curated lexicons and small classifiers.

Runs in the bot process in well under a millisecond and never imports torch. See docs/safety.md.
"""

from bot.safety.automod import AutoModRule
from bot.safety.checker import ALLOWED, PromptChecker, Verdict
from bot.safety.levels import Category, Level, effective_level
from bot.safety.normalize import normalize
from bot.safety.reasons import REASONS, reason_text

__all__ = [
    "ALLOWED",
    "REASONS",
    "AutoModRule",
    "Category",
    "Level",
    "PromptChecker",
    "Verdict",
    "effective_level",
    "normalize",
    "reason_text",
]
