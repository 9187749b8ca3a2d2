"""Every metric the bot exports, in the process's default registry (names in docs/metrics.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
"""Seconds: a job phase lasts from a few milliseconds (a tiny text model) to many minutes (a backlog)."""
DEFER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5)
"""Seconds: Discord wants the first response within 3 s; the goal is p99 under 100 ms."""

INTERACTIONS = Counter(
    "atelier_interactions",
    "Interactions received, by type and command (or button family).",
    ["type", "name"],
)
DEFER_SECONDS = Histogram(
    "atelier_interaction_defer_seconds",
    "From an interaction's creation (its snowflake) to Discord accepting the bot's first response.",
    ["type"],
    buckets=DEFER_BUCKETS,
)
RESPONSE_FAILURES = Counter(
    "atelier_interaction_response_failures",
    "First responses Discord refused (e.g. 10062 when later than 3 s), by type.",
    ["type"],
)
JOBS_SUBMITTED = Counter("atelier_jobs_submitted", "Jobs admitted and stored, by modality.", ["modality"])
REFUSALS = Counter(
    "atelier_refusals",
    "Requests refused with a message to the member (rules, limits, safety, bad input), by message key.",
    ["reason"],
)
JOBS_FINISHED = Counter(
    "atelier_jobs_finished", "Results recorded, by modality and outcome.", ["modality", "outcome"]
)
JOB_FAILURES = Counter(
    "atelier_job_failures",
    "Jobs that failed or were cancelled, by modality and error code.",
    ["modality", "error_code"],
)
JOB_PHASE_SECONDS = Histogram(
    "atelier_job_phase_seconds",
    "How long jobs spent in each phase: queued (stored → started), running (started → finished), "
    "delivering (finished → in Discord).",
    ["modality", "phase"],
    buckets=JOB_BUCKETS,
)
DELIVERIES = Counter(
    "atelier_deliveries",
    "Delivery attempts, by modality and outcome (delivered, withheld, held, undeliverable, retry).",
    ["modality", "outcome"],
)
SAFETY_BLOCKS = Counter(
    "atelier_safety_blocks",
    "Prompts refused and results withheld by the safety rules, by stage and rule.",
    ["stage", "rule"],
)
VOTES = Counter(
    "atelier_votes",
    "Challenge votes, by outcome (recorded, unchanged, refused) and refusal reason.",
    ["outcome", "reason"],
)
