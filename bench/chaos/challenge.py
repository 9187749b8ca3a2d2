"""A challenge run through its whole life while faults land: created, entries uploaded, voting opened by
the scheduler on time, votes cast by members (who try again when the bot does not answer), closed and
counted. The scheduler is killed at each phase deadline. Then every vote and announcement is
accounted for."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.chaos.ledger import DELIVERED, DUPLICATED, FAILED_SEEN, LOST, UNANSWERED, Outcome, Tally
from bench.chaos.stack import Stack
from bot.sandbox import InteractionHandle

JSON = dict[str, Any]
ENTRANTS = 3
VOTERS = 5
VOTES_EACH = 2
PHASE_HOURS = 0.01  # 36 s: the shortest window /challenge create accepts
ANSWER_S = 4.0


@dataclass
class DeadlineFault:
    """The scheduler killed around a phase deadline and started again a little later."""

    deadline: str
    offset_s: float
    down_s: float
    hard: bool


@dataclass
class ChallengeReport:
    number: int
    challenge_id: int | None = None
    deadline_faults: list[DeadlineFault] = field(default_factory=list)
    votes: Tally = field(default_factory=Tally)
    announcements: Tally = field(default_factory=Tally)
    entries: int = 0
    error: str = ""


async def reply_text(stack: Stack, handle: InteractionHandle, timeout: float = ANSWER_S) -> str | None:
    """What the member read in answer (None: the bot never answered in time)."""
    try:
        await handle.wait_responded(timeout)
    except TimeoutError:
        return None
    if handle.response_type != 5:
        data = handle.response_data or {}
        return str(data.get("content") or data.get("embeds") or "")
    deadline = time.monotonic() + timeout * 3
    while time.monotonic() < deadline:
        for message_id in (handle.original_message_id, *handle.followup_ids):
            stored = stack.sandbox.core.messages.get(message_id) if message_id else None
            if stored is not None and (stored.data.get("content") or stored.data.get("embeds")):
                return str(stored.data.get("content") or stored.data.get("embeds"))
        await asyncio.sleep(0.2)
    return ""  # deferred, then nothing: the member saw "thinking…" end in a failure


class ChallengeTrack:
    def __init__(self, stack: Stack, number: int, rng: random.Random, dsn: str) -> None:
        self.stack = stack
        self.rng = rng
        self.dsn = dsn
        self.report = ChallengeReport(number)
        self.title = f"Chaos challenge {number} {rng.randrange(10**6)}"
        self.sandbox = stack.sandbox
        world = self.sandbox.world
        self.entrants = [self._member(f"entrant{number}-{i}") for i in range(ENTRANTS)]
        self.voters = [self._member(f"voter{number}-{i}") for i in range(VOTERS)]
        del world

    def _member(self, name: str) -> int:
        user = self.sandbox.world.add_user(name)
        self.sandbox.world.add_member(self.sandbox.guild_id, user)
        return user

    async def _query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        try:
            connection = await asyncpg.connect(self.dsn, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return []  # PostgreSQL is being restarted by another fault: look again later
        try:
            return list(await connection.fetch(sql, *args))
        except (OSError, asyncpg.PostgresError):
            return []
        finally:
            await connection.close()

    async def _until(self, check: Callable[[], Awaitable[Any]], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.3)
        raise TimeoutError

    async def _challenge(self) -> asyncpg.Record | None:
        rows = await self._query(
            "SELECT id, phase, voting_at, closes_at, results FROM challenges WHERE title = $1", self.title
        )
        return rows[0] if rows else None

    async def run(self, delay_s: float = 0.0) -> ChallengeReport:
        """Start after `delay_s`, live the challenge's whole life, then account for it."""
        await asyncio.sleep(delay_s)
        try:
            await self._run()
        except TimeoutError as error:
            self.report.error = f"timed out: {error}"
        return self.report

    async def _run(self) -> None:
        row = None
        while row is None:  # create it; ask again only if it was not stored (a member would look first)
            handle = await self.sandbox.send_slash_command(
                "challenge create",
                {
                    "title": self.title,
                    "brief": "Four lines about a storm.",
                    "channel": str(self.sandbox.channel_id),
                    "kind": "text",
                    "entries_hours": PHASE_HOURS,
                    "voting_hours": PHASE_HOURS,
                    "uploads": True,
                },
            )
            await reply_text(self.stack, handle)
            row = await self._challenge()
            if row is None:
                await asyncio.sleep(1.5)
        self.report.challenge_id = challenge_id = int(row["id"])
        faults = [
            asyncio.create_task(self._deadline_fault(what, row[f"{what}_at"]))
            for what in ("voting", "closes")
        ]
        for index, user in enumerate(self.entrants):
            await self._enter(challenge_id, user, index)
        await self._until(lambda: self._phase_is("voting"), 120)
        posts = await self._until(lambda: self._entry_posts(challenge_id), 60)
        self.report.entries = len(posts)
        asked = await self._vote(challenge_id, posts)
        await self._until(lambda: self._phase_is("closed"), 120)
        await asyncio.gather(*faults)
        await self._until(lambda: self._announced(challenge_id), 240)
        await self._account(challenge_id, asked)

    async def _phase_is(self, phase: str) -> bool:
        row = await self._challenge()
        return row is not None and row["phase"] == phase

    async def _enter(self, challenge_id: int, user: int, index: int) -> None:
        for _ in range(20):
            handle = await self.sandbox.send_slash_command(
                "challenge submit",
                {"challenge": challenge_id, "caption": f"storm {index}"},
                user=user,
                attachments={"file": (f"storm-{index}.txt", f"Thunder {index} rolls".encode(), "text/plain")},
            )
            text = await reply_text(self.stack, handle)
            if text and ("You're in" in text or "already entered" in text):
                return
            rows = await self._query(
                "SELECT 1 FROM challenge_entries WHERE challenge_id = $1 AND member_id = $2",
                challenge_id,
                user,
            )
            if rows:
                return
            await asyncio.sleep(1.5)

    async def _entry_posts(self, challenge_id: int) -> dict[int, int] | None:
        """entry id → message id of its voting post, once every entry is posted."""
        rows = await self._query(
            "SELECT id FROM challenge_entries WHERE challenge_id = $1 AND withdrawn_at IS NULL", challenge_id
        )
        wanted = {int(r["id"]) for r in rows}
        posts: dict[int, int] = {}
        prefix = f"chal:vote:{challenge_id}:"
        for message in self.sandbox.messages(self.sandbox.channel_id):
            for row in message.get("components", []):
                for component in row.get("components", []):
                    custom = str(component.get("custom_id", ""))
                    if custom.startswith(prefix):
                        posts[int(custom.split(":")[3])] = int(message["id"])
        return posts if wanted and wanted <= set(posts) else None

    async def _vote(self, challenge_id: int, posts: dict[int, int]) -> dict[tuple[int, int], Outcome]:
        """Each voter votes for VOTES_EACH entries (not their own), trying again while unanswered."""
        owners = {
            int(r["id"]): int(r["member_id"])
            for r in await self._query(
                "SELECT id, member_id FROM challenge_entries WHERE challenge_id = $1", challenge_id
            )
        }
        plans = []
        for voter in self.voters + self.entrants:
            choices = [e for e in posts if owners.get(e) != voter]
            for entry in self.rng.sample(choices, min(VOTES_EACH, len(choices))):
                plans.append((voter, entry))
        outcomes: dict[tuple[int, int], Outcome] = {}

        async def cast(voter: int, entry: int) -> None:
            await asyncio.sleep(self.rng.uniform(0, 20))  # spread across the voting window
            custom = f"chal:vote:{challenge_id}:{entry}:0"
            tries = 0
            while True:
                tries += 1
                handle = await self.sandbox.click_button(posts[entry], custom, user=voter)
                text = await reply_text(self.stack, handle)
                if text and ("is in" in text or "already voted" in text):
                    outcomes[(voter, entry)] = Outcome(DELIVERED, attempts=tries)
                    return
                if text and "not open" in text:
                    outcomes[(voter, entry)] = Outcome(FAILED_SEEN, "voting had closed", tries)
                    return
                if not await self._phase_is("voting") and await self._challenge() is not None:
                    label = UNANSWERED if text is None else FAILED_SEEN
                    outcomes[(voter, entry)] = Outcome(label, f"{text!r}", tries)
                    return
                await asyncio.sleep(1.5)

        await asyncio.gather(*(cast(v, e) for v, e in plans))
        return outcomes

    async def _deadline_fault(self, what: str, deadline: datetime) -> None:
        fault = DeadlineFault(
            what, self.rng.uniform(-1.5, 1.0), self.rng.uniform(1.0, 5.0), self.rng.random() < 0.5
        )
        self.report.deadline_faults.append(fault)
        wait = (deadline - datetime.now(UTC)).total_seconds() + fault.offset_s
        await asyncio.sleep(max(0.0, wait))
        scheduler = self.stack.scheduler
        assert scheduler is not None
        await asyncio.to_thread(scheduler.stop, fault.hard)
        await asyncio.sleep(fault.down_s)
        if not scheduler.alive:
            scheduler.start()

    async def _announced(self, challenge_id: int) -> bool:
        rows = await self._query(
            "SELECT key, posted_at, attempts FROM outbox WHERE key LIKE $1", f"challenge:{challenge_id}:%"
        )
        keys = {r["key"] for r in rows}
        done = all(r["posted_at"] is not None or r["attempts"] >= 5 for r in rows)
        return done and f"challenge:{challenge_id}:results" in keys

    async def _account(self, challenge_id: int, asked: dict[tuple[int, int], Outcome]) -> None:
        votes = await self._query(
            "SELECT voter_id, entry_id FROM challenge_votes WHERE challenge_id = $1", challenge_id
        )
        stored: dict[tuple[int, int], int] = {}
        for row in votes:
            key = (int(row["voter_id"]), int(row["entry_id"]))
            stored[key] = stored.get(key, 0) + 1
        counters = {
            int(r["id"]): int(r["votes"])
            for r in await self._query(
                "SELECT id, votes FROM challenge_entries WHERE challenge_id = $1", challenge_id
            )
        }
        for key, outcome in sorted(asked.items()):
            if stored.get(key, 0) > 1:
                outcome = Outcome(DUPLICATED, f"{stored[key]} rows")
            elif outcome.label == DELIVERED and not stored.get(key):
                outcome = Outcome(LOST, "acknowledged, not stored")
            self.report.votes.add(outcome, f"vote {key}")
        for entry, counter in counters.items():
            rows = sum(n for (_, e), n in stored.items() if e == entry)
            if counter != rows:
                self.report.votes.add(
                    Outcome(DUPLICATED, f"entry {entry}: counter {counter} vs {rows} votes"), "tally"
                )
        await self._account_announcements(challenge_id)

    async def _account_announcements(self, challenge_id: int) -> None:
        rows = await self._query(
            "SELECT id, key, kind, posted_at FROM outbox WHERE key LIKE $1", f"challenge:{challenge_id}:%"
        )
        expected = {f"challenge:{challenge_id}:{w}" for w in ("opened", "voting", "results")}
        expected |= {f"challenge:{challenge_id}:entry:{e}" for e in await self._entry_ids(challenge_id)}
        messages = self.sandbox.messages(self.sandbox.channel_id)
        by_key = {r["key"]: r for r in rows}
        for key in sorted(expected | set(by_key)):
            row = by_key.get(key)
            if row is None:
                self.report.announcements.add(Outcome(LOST, "never written"), key)
                continue
            posts = [m for m in messages if str(m.get("nonce")) == f"ob{row['id']}"]
            shown = len(posts)
            if row["posted_at"] is None or shown == 0:
                outcome = Outcome(LOST, f"posted_at={row['posted_at']}, shown {shown}")
            elif ":entry:" in key and not all(m.get("attachments") for m in posts):
                outcome = Outcome(LOST, "the entry was posted without its file (the store lost it)")
            elif shown > 1:
                outcome = Outcome(DUPLICATED, f"shown {shown} times")
            else:
                outcome = Outcome(DELIVERED)
            self.report.announcements.add(outcome, key)

    async def _entry_ids(self, challenge_id: int) -> list[int]:
        rows = await self._query(
            "SELECT id FROM challenge_entries WHERE challenge_id = $1 AND withdrawn_at IS NULL "
            "AND removed_at IS NULL",
            challenge_id,
        )
        return [int(r["id"]) for r in rows]
