"""What members do with each other's work, and how much each thing says about their taste.

The names are the `event` of an interaction log (`events.jsonl`) and of the `discovery_signals` table.
An event not named here counts as a plain positive signal (weight 1), so a log from another community
with its own event names can still be replayed.
"""

from __future__ import annotations

NOT_FOR_ME = "not_for_me"
MORE_LIKE_THIS = "more_like_this"
SUBMISSION = "submission"

EVENT_WEIGHTS: dict[str, float] = {
    "view": 0.5,
    "play": 1.0,
    "see": 1.0,
    "reaction": 2.0,
    "reroll": 2.0,
    "variation": 2.0,
    "extend": 2.5,
    "vote": 3.0,
    MORE_LIKE_THIS: 3.0,
    SUBMISSION: 0.0,  # a member entering their own work: authorship, not taste
    NOT_FOR_ME: -1.0,
}
"""Positive weights are engagement; a negative weight is the member saying no."""

EVENTS: tuple[str, ...] = tuple(EVENT_WEIGHTS)


def event_weight(event: str) -> float:
    """How much an event says (unknown events: 1, a plain positive)."""
    return EVENT_WEIGHTS.get(event, 1.0)


def is_positive(event: str) -> bool:
    return event_weight(event) > 0


def is_negative(event: str) -> bool:
    return event_weight(event) < 0
