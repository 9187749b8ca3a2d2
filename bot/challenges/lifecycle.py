"""A challenge's phases on time: durable timers move it, the outbox announces it.

At creation (and after an edit or an extension) `schedule` puts a timer at each deadline: opening,
voting, closing, and a reminder before each of the two deadlines. The scheduler process fires them
(bot/scheduling): each handler moves the phase with a compare-and-set and writes what the members
must hear into the outbox, keyed by what it is about, so a timer that fires twice, or fires late
after downtime, changes the phase once and announces once. The bot posts the outbox (it holds the
Discord connection): bot/exts/challenge/announce.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.challenges.model import Challenge, Phase, VotingMode
from bot.challenges.repository import ChallengeRepository
from bot.challenges.tally import Standing, judged_points, places, standings
from bot.db.database import Database
from bot.db.outbox import OutboxRepository
from bot.scheduling.handlers import DEFAULT_HANDLERS, TimerContext
from bot.scheduling.repository import Timer, TimerRepository

log = logging.getLogger(__name__)

OPEN, VOTING, CLOSE, REMIND, UNROLE = (
    "challenge.open",
    "challenge.voting",
    "challenge.close",
    "challenge.remind",
    "challenge.unrole",
)
OUTBOX_CHANNEL = "atelier:outbox"
"""Redis channel a writer publishes on so the bot posts at once (it also looks every few seconds)."""


def timer_key(challenge_id: int, what: str) -> str:
    return f"challenge:{challenge_id}:{what}"


async def schedule(timers: TimerRepository, challenge: Challenge) -> None:
    """Put (or move) the challenge's timers at its deadlines."""
    payload = {"challenge_id": challenge.id}
    guild = challenge.guild_id
    if challenge.phase is Phase.SCHEDULED:
        await timers.schedule(OPEN, timer_key(challenge.id, "open"), challenge.opens_at, payload, guild)
    await timers.schedule(VOTING, timer_key(challenge.id, "voting"), challenge.voting_at, payload, guild)
    await timers.schedule(CLOSE, timer_key(challenge.id, "close"), challenge.closes_at, payload, guild)
    before = timedelta(hours=challenge.rules.remind_before_h)
    if before:
        for deadline, what in ((challenge.voting_at, "submit"), (challenge.closes_at, "vote")):
            if deadline - before > challenge.opens_at:
                await timers.schedule(
                    REMIND,
                    timer_key(challenge.id, f"remind-{what}"),
                    deadline - before,
                    {**payload, "before": what},
                    guild,
                )


async def unschedule(timers: TimerRepository, challenge_id: int) -> None:
    for what in ("open", "voting", "close", "remind-submit", "remind-vote"):
        await timers.cancel(timer_key(challenge_id, what))


async def announce(outbox: OutboxRepository, challenge: Challenge, what: str, **payload: Any) -> bool:
    """Write an announcement of the challenge to its channel (once per `what`)."""
    return await outbox.add(
        timer_key(challenge.id, what),
        f"challenge.{what.split(':')[0]}",
        {"challenge_id": challenge.id, **payload},
        guild_id=challenge.guild_id,
        channel_id=challenge.channel_id,
    )


async def standings_of(repository: ChallengeRepository, challenge: Challenge) -> list[Standing]:
    """The current places (for the results, and for tools; members see them only when it closes)."""
    if challenge.rules.voting is VotingMode.JUDGES:
        entries = await repository.running(challenge.id)
        points = judged_points(await repository.scores(challenge.id), challenge.rules.criteria)
        return standings(entries, points)
    return places(await repository.points(challenge.id))


async def open_submissions(database: Database, challenge_id: int) -> Challenge | None:
    repository = ChallengeRepository(database)
    opened = await repository.move(challenge_id, [Phase.SCHEDULED], Phase.OPEN)
    if opened is not None:
        await announce(OutboxRepository(database), opened, "opened")
    return opened


async def open_voting(database: Database, challenge_id: int) -> Challenge | None:
    """Close submissions and open voting: every entry is posted (blind, in a shuffled order)."""
    repository = ChallengeRepository(database)
    moved = await repository.move(challenge_id, [Phase.OPEN, Phase.SCHEDULED], Phase.VOTING)
    challenge = moved or await repository.get(challenge_id)
    if challenge is None or challenge.phase is not Phase.VOTING:
        return None
    outbox = OutboxRepository(database)
    for order, entry in enumerate(
        shuffled(await repository.entries(challenge.id), seed=challenge.id), start=1
    ):
        await outbox.add(
            timer_key(challenge.id, f"entry:{entry.id}"),
            "challenge.entry",
            {"challenge_id": challenge.id, "entry_id": entry.id, "number": order},
            guild_id=challenge.guild_id,
            channel_id=challenge.channel_id,
        )
    await announce(outbox, challenge, "voting")
    return challenge


async def close(database: Database, challenge_id: int, now: datetime) -> Challenge | None:
    """End voting, count, store and announce the results; give the winners their role."""
    repository = ChallengeRepository(database)
    challenge = await repository.move(challenge_id, [Phase.VOTING, Phase.OPEN], Phase.CLOSED)
    if challenge is None:
        challenge = await repository.get(challenge_id)
        if challenge is None or challenge.phase is not Phase.CLOSED or challenge.results is not None:
            return None  # cancelled, or already closed and counted
    table = await standings_of(repository, challenge)
    results = {
        "standings": [s.__dict__ for s in table],
        "counted_at": now.isoformat(),
        "mode": challenge.rules.voting.value,
    }
    challenge = await repository.change(challenge.id, results=results) or challenge
    outbox = OutboxRepository(database)
    await announce(outbox, challenge, "results")
    winners = sorted({s.member_id for s in table if s.place == 1 and (s.points > 0 or s.votes > 0)})
    if challenge.rules.winner_role is not None and winners:
        await announce(outbox, challenge, "winner_role", winners=winners, role_id=challenge.rules.winner_role)
    return challenge


def shuffled(items: list[Any], *, seed: int) -> list[Any]:
    """A stable shuffle (the same seed gives the same order in every process)."""
    import random

    ordered = list(items)
    random.Random(seed).shuffle(ordered)
    return ordered


def _database(context: TimerContext) -> Database:
    runtime = context.services.get("runtime")
    database = getattr(runtime, "database", None) or context.services.get("database")
    if database is None:
        raise RuntimeError("challenge timers need the scheduler's database")
    return database


async def _notify(context: TimerContext) -> None:
    runtime = context.services.get("runtime")
    redis = getattr(runtime, "redis", None)
    if redis is not None:
        try:
            await redis.publish(OUTBOX_CHANNEL, "1")
        except Exception as error:  # the bot also looks every few seconds
            log.info("could not wake the bot for the outbox: %s", error)


@DEFAULT_HANDLERS.handler(OPEN)
async def _on_open(timer: Timer, context: TimerContext) -> None:
    await open_submissions(_database(context), int(timer.payload["challenge_id"]))
    await _notify(context)


@DEFAULT_HANDLERS.handler(VOTING)
async def _on_voting(timer: Timer, context: TimerContext) -> None:
    await open_voting(_database(context), int(timer.payload["challenge_id"]))
    await _notify(context)


@DEFAULT_HANDLERS.handler(CLOSE)
async def _on_close(timer: Timer, context: TimerContext) -> None:
    challenge = await close(_database(context), int(timer.payload["challenge_id"]), context.clock.now())
    if challenge is not None and challenge.rules.winner_role is not None:
        await context.timers.schedule(
            UNROLE,
            timer_key(challenge.id, "unrole"),
            context.clock.now() + timedelta(days=challenge.rules.winner_role_days),
            {"challenge_id": challenge.id},
            challenge.guild_id,
        )
    await _notify(context)


@DEFAULT_HANDLERS.handler(REMIND)
async def _on_remind(timer: Timer, context: TimerContext) -> None:
    database = _database(context)
    repository = ChallengeRepository(database)
    challenge = await repository.get(int(timer.payload["challenge_id"]))
    before = str(timer.payload.get("before", "submit"))
    wanted = Phase.OPEN if before == "submit" else Phase.VOTING
    if challenge is None or challenge.phase is not wanted:
        return
    outbox = OutboxRepository(database)
    for member in await repository.subscribers(challenge.id):
        await outbox.add(
            timer_key(challenge.id, f"remind-{before}:{member}"),
            "challenge.reminder",
            {"challenge_id": challenge.id, "before": before},
            guild_id=challenge.guild_id,
            user_id=member,
        )
    await _notify(context)


@DEFAULT_HANDLERS.handler(UNROLE)
async def _on_unrole(timer: Timer, context: TimerContext) -> None:
    database = _database(context)
    challenge = await ChallengeRepository(database).get(int(timer.payload["challenge_id"]))
    if challenge is None or challenge.rules.winner_role is None or not challenge.results:
        return
    winners = sorted({s["member_id"] for s in challenge.results["standings"] if s["place"] == 1})
    await announce(
        OutboxRepository(database), challenge, "unrole", winners=winners, role_id=challenge.rules.winner_role
    )
    await _notify(context)
