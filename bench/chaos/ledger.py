"""The account after a run: every job asked for, vote cast and announcement decided, and what became
of it, read from the database (the truth the bot keeps) and the local Discord (what members saw)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.chaos.backend import answer
from bot.sandbox import InteractionHandle, SandboxServer

FAILED_COLOUR = 0xED4245  # bot.delivery.describe.FAILED_COLOUR: a failed job's embed
JSON = dict[str, Any]

# What a job ask can end as. The first three are fine; the last two are what the harness hunts.
DELIVERED = "delivered"
FAILED_SEEN = "failed, member told"
UNANSWERED = "unanswered, member told"  # Discord itself shows "The application did not respond"
LOST = "LOST"
DUPLICATED = "DUPLICATED"
GOOD = (DELIVERED, FAILED_SEEN, UNANSWERED)


@dataclass
class JobAsk:
    """One /write a member sent."""

    run: int
    prompt: str
    user: int
    handle: InteractionHandle
    sent_at: float


@dataclass
class Outcome:
    label: str
    detail: str = ""
    attempts: int = 0
    delivery_s: float = 0.0
    """From the job's result to its delivery."""


@dataclass
class Tally:
    """Counts of outcomes (of jobs, votes or announcements) for one row of the table."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, what: str) -> None:
        self.counts[outcome.label] += 1
        if outcome.label not in GOOD:
            self.problems.append(f"{what}: {outcome.label} {outcome.detail}".strip())

    @property
    def lost(self) -> int:
        return self.counts[LOST]

    @property
    def duplicated(self) -> int:
        return self.counts[DUPLICATED]


async def fetch_jobs(dsn: str) -> dict[str, JSON]:
    """Every job row, keyed by its interaction token."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT id, status, result, error, error_code, delivery_target, delivered_at, attempts, created_at, "
            "finished_at FROM jobs"
        )
    finally:
        await connection.close()
    found: dict[str, JSON] = {}
    for row in rows:
        target = _json(row["delivery_target"]) or {}
        token = target.get("interaction_token")
        if token:
            found[token] = {**dict(row), "result": _json(row["result"]), "delivery_target": target}
    return found


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _footer_has(message: JSON, job_id: str) -> bool:
    return any(
        f"job {job_id}" in str((e.get("footer") or {}).get("text", "")) for e in message.get("embeds", [])
    )


def _custom_ids(message: JSON) -> list[str]:
    return [
        c.get("custom_id", "") for row in message.get("components", []) for c in row.get("components", [])
    ]


def final_views(messages: list[JSON], job_id: str, prompt: str) -> tuple[int, int]:
    """(messages showing the job's result, messages showing its failure) in the channel."""
    shown = failed = 0
    for message in messages:
        if not _footer_has(message, job_id):
            continue
        embeds = message.get("embeds", [])
        if any(answer(prompt) in str(e.get("description", "")) for e in embeds) and any(
            i.startswith("atelier:delete:") for i in _custom_ids(message)
        ):
            shown += 1
        elif any(e.get("color") == FAILED_COLOUR for e in embeds):
            failed += 1
    return shown, failed


def account_job(
    ask: JobAsk, rows: dict[str, JSON], messages: list[JSON], originals: dict[int, JSON]
) -> Outcome:
    """What became of one /write: delivered once, failed with a message, or lost/duplicated."""
    row = rows.get(ask.handle.token)
    if row is None:
        if not ask.handle.responded:
            return Outcome(UNANSWERED, "no job stored")
        seen = _answer_text(ask.handle, originals)
        if "job " in seen:
            return Outcome(LOST, "the member was told of a job that was not stored")
        if seen:
            return Outcome(FAILED_SEEN, f"refused: {seen[:60]}")
        return Outcome(LOST, "deferred, then never answered")
    shown, failed = final_views(messages, row["id"], ask.prompt)
    attempts = int(row["attempts"] or 0)
    if row["delivered_at"] is not None and row["finished_at"] is not None:
        wait = (row["delivered_at"] - row["finished_at"]).total_seconds()
    else:
        wait = 0.0
    if row["delivered_at"] is None:
        return Outcome(LOST, f"job {row['id']} {row['status']}, never delivered", attempts)
    if shown + failed > 1:
        return Outcome(DUPLICATED, f"job {row['id']} shown {shown + failed} times", attempts)
    if shown == 1:
        return Outcome(DELIVERED, f"job {row['id']}", attempts, wait)
    if failed == 1:
        return Outcome(FAILED_SEEN, f"job {row['id']}: {str(row['error'])[:80]}", attempts, wait)
    return Outcome(LOST, f"job {row['id']} marked delivered but not shown", attempts)


def channel_messages(sandbox: SandboxServer) -> list[JSON]:
    return sandbox.messages(sandbox.channel_id)


def stored_by_id(sandbox: SandboxServer) -> dict[int, JSON]:
    """Every message the sandbox holds (ephemeral answers included), by id."""
    return {m.id: m.data for m in sandbox.stored_messages(sandbox.channel_id)}


def _answer_text(handle: InteractionHandle, originals: dict[int, JSON]) -> str:
    """What the member read in answer to an interaction: the response, or the reply it edited."""
    parts = [handle.response_data or {}]
    parts += [originals[i] for i in (handle.original_message_id, *handle.followup_ids) if i in originals]
    text = " ".join(str(p.get("content") or "") + " " + str(p.get("embeds") or "") for p in parts)
    return text.strip() if text.strip() not in ("", "[]", "None") else ""
