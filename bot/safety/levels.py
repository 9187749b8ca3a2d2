"""Safety levels, the content categories, and which lexicon tiers each level blocks."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """A server's (or channel's) safety level; ``relaxed`` applies only in age-restricted channels."""

    STRICT = "strict"
    STANDARD = "standard"
    RELAXED = "relaxed"


class Category(StrEnum):
    """The content categories of the curated lexicons, in the order a verdict reports them."""

    MINORS = "minors"
    SELF_HARM = "self_harm"
    HATE = "hate"
    EXTREMISM = "extremism"
    REAL_PEOPLE = "real_people"
    SEXUAL = "sexual"
    VIOLENCE = "violence"


class Tier(StrEnum):
    """A lexicon section: the lowest level at which its terms are still blocked."""

    STRICT = "strict"  # blocked at strict only (suggestive content, mild violence)
    STANDARD = "standard"  # blocked at strict and standard (explicit adult content, graphic gore)
    ALWAYS = "always"  # blocked at every level, relaxed included


BLOCKED_TIERS: dict[Level, frozenset[Tier]] = {
    Level.STRICT: frozenset(Tier),
    Level.STANDARD: frozenset({Tier.STANDARD, Tier.ALWAYS}),
    Level.RELAXED: frozenset({Tier.ALWAYS}),
}

# Categories a classifier may block at each level: at relaxed, adult sexual content and fictional
# violence are allowed, so only the categories that are never allowed remain.
CLASSIFIER_CATEGORIES: dict[Level, frozenset[Category]] = {
    Level.STRICT: frozenset(Category),
    Level.STANDARD: frozenset(Category),
    Level.RELAXED: frozenset(Category) - {Category.SEXUAL, Category.VIOLENCE},
}

# Levels at which alt-profanity-check runs. On the labelled set it catches nothing the lexicons miss
# and its false positives are hard negatives ("Moby Dick", "a cock crowing"), so only strict uses it.
PROFANITY_LEVELS: frozenset[Level] = frozenset({Level.STRICT})


def blocks(level: Level, tier: Tier) -> bool:
    """Whether a term of ``tier`` is blocked at ``level``."""
    return tier in BLOCKED_TIERS[level]


def effective_level(level: Level | str, *, age_restricted: bool) -> Level:
    """The level that applies in a channel: ``relaxed`` falls back to ``standard`` outside age-restricted ones."""
    level = Level(level)
    if level is Level.RELAXED and not age_restricted:
        return Level.STANDARD
    return level
