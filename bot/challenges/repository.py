"""Challenges in the database: every change that a race could break is one conditional statement in one
transaction (an entry only while open and under the member's limit, a vote only while voting, a phase
only from the phase it expects), so concurrent clicks and a timer that fires twice do no harm."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.challenges.model import Challenge, Entry, NewChallenge, Phase, Rules
from bot.db.database import Database
from bot.db.models import (
    ChallengeEntryRow,
    ChallengeRow,
    ChallengeScoreRow,
    ChallengeSubscriberRow,
    ChallengeVoteRow,
)
from wire.contract import utcnow

CHALLENGES: Table = ChallengeRow.__table__  # type: ignore[assignment]
ENTRIES: Table = ChallengeEntryRow.__table__  # type: ignore[assignment]
VOTES: Table = ChallengeVoteRow.__table__  # type: ignore[assignment]
SCORES: Table = ChallengeScoreRow.__table__  # type: ignore[assignment]
SUBSCRIBERS: Table = ChallengeSubscriberRow.__table__  # type: ignore[assignment]
LIVE = (Phase.SCHEDULED, Phase.OPEN, Phase.VOTING)


class Refusal(Exception):
    """An entry, vote or score not taken; `reason` names the catalog message, `values` fill it."""

    def __init__(self, reason: str, **values: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


class ChallengeRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # --- challenges -------------------------------------------------------------------------------

    async def create(self, guild_id: int, new: NewChallenge, created_by: int) -> Challenge:
        now = utcnow()
        phase = Phase.OPEN if new.opens_at <= now else Phase.SCHEDULED
        values = {
            "guild_id": guild_id,
            "title": new.title,
            "brief": new.brief,
            "modality": new.modality,
            "channel_id": new.channel_id,
            "forum": new.forum,
            "opens_at": new.opens_at,
            "voting_at": new.voting_at,
            "closes_at": new.closes_at,
            "phase": phase.value,
            "rules": new.rules.model_dump(mode="json"),
            "results": None,
            "discord": {},
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }

        def work(connection: Connection) -> Challenge:
            row = connection.execute(insert(CHALLENGES).values(**values).returning(*CHALLENGES.c)).one()
            return _challenge(row)

        return await self._db.write(work)

    async def get(self, challenge_id: int, guild_id: int | None = None) -> Challenge | None:
        """A challenge (only if it is on `guild_id`, when given: nothing crosses servers)."""
        statement = select(CHALLENGES).where(CHALLENGES.c.id == challenge_id)
        if guild_id is not None:
            statement = statement.where(CHALLENGES.c.guild_id == guild_id)
        return await self._db.write(lambda c: _first(c, statement, _challenge))

    async def for_guild(
        self, guild_id: int, phases: Sequence[Phase] = LIVE, limit: int = 25
    ) -> list[Challenge]:
        statement = (
            select(CHALLENGES)
            .where(CHALLENGES.c.guild_id == guild_id, CHALLENGES.c.phase.in_([p.value for p in phases]))
            .order_by(CHALLENGES.c.id.desc())
            .limit(limit)
        )
        return await self._db.write(lambda c: [_challenge(row) for row in c.execute(statement)])

    async def live(self) -> list[Challenge]:
        """Every scheduled, open or voting challenge (to rebuild caches at start)."""
        statement = select(CHALLENGES).where(CHALLENGES.c.phase.in_([p.value for p in LIVE]))
        return await self._db.write(lambda c: [_challenge(row) for row in c.execute(statement)])

    async def move(self, challenge_id: int, expected: Sequence[Phase], to: Phase) -> Challenge | None:
        """Change the phase if it is still one of `expected` (a compare-and-set); the challenge, or None."""
        statement = (
            update(CHALLENGES)
            .where(CHALLENGES.c.id == challenge_id, CHALLENGES.c.phase.in_([p.value for p in expected]))
            .values(phase=to.value, updated_at=utcnow())
            .returning(*CHALLENGES.c)
        )
        return await self._db.write(lambda c: _first(c, statement, _challenge))

    async def change(self, challenge_id: int, **values: Any) -> Challenge | None:
        """Edit fields (title, brief, times, rules as a dict, discord, results) of a challenge."""
        if "rules" in values and isinstance(values["rules"], Rules):
            values["rules"] = values["rules"].model_dump(mode="json")
        statement = (
            update(CHALLENGES)
            .where(CHALLENGES.c.id == challenge_id)
            .values(**values, updated_at=utcnow())
            .returning(*CHALLENGES.c)
        )
        return await self._db.write(lambda c: _first(c, statement, _challenge))

    async def remember(self, challenge_id: int, **discord: Any) -> None:
        """Merge ids of what the bot made on Discord for the challenge into its `discord` field."""

        def work(connection: Connection) -> None:
            current = connection.execute(
                select(CHALLENGES.c.discord).where(CHALLENGES.c.id == challenge_id)
            ).scalar()
            merged = {**(current or {}), **discord}
            connection.execute(
                update(CHALLENGES).where(CHALLENGES.c.id == challenge_id).values(discord=merged)
            )

        await self._db.write(work)

    # --- entries ----------------------------------------------------------------------------------

    async def add_entry(
        self,
        challenge: Challenge,
        member_id: int,
        *,
        job_id: str | None,
        made_by: str,
        caption: str,
        files: list[dict[str, Any]],
    ) -> Entry:
        """Take an entry while the challenge is open and the member is under its limit (Refusal if not)."""
        now = utcnow()

        def work(connection: Connection) -> Entry:
            phase = connection.execute(
                select(CHALLENGES.c.phase).where(CHALLENGES.c.id == challenge.id)
            ).scalar()
            if phase != Phase.OPEN:
                raise Refusal("challenge.not_open")
            mine = connection.execute(
                select(func.count())
                .select_from(ENTRIES)
                .where(_counting(), ENTRIES.c.challenge_id == challenge.id, ENTRIES.c.member_id == member_id)
            ).scalar_one()
            limit = challenge.rules.entries_per_member
            if mine >= limit:
                raise Refusal("challenge.entry_limit", limit=limit)
            try:
                with connection.begin_nested():
                    row = connection.execute(
                        insert(ENTRIES)
                        .values(
                            challenge_id=challenge.id,
                            member_id=member_id,
                            job_id=job_id,
                            made_by=made_by,
                            caption=caption,
                            files=files,
                            created_at=now,
                        )
                        .returning(*ENTRIES.c)
                    ).one()
            except IntegrityError:
                raise Refusal("challenge.already_entered") from None
            return _entry(row)

        return await self._db.write(work)

    async def withdraw(self, entry_id: int, member_id: int) -> Entry | None:
        """A member takes back their entry while submissions are open; None if they cannot."""
        open_challenges = select(CHALLENGES.c.id).where(CHALLENGES.c.phase == Phase.OPEN)
        statement = (
            update(ENTRIES)
            .where(
                ENTRIES.c.id == entry_id,
                ENTRIES.c.member_id == member_id,
                _counting(),
                ENTRIES.c.challenge_id.in_(open_challenges.scalar_subquery()),
            )
            .values(withdrawn_at=utcnow())
            .returning(*ENTRIES.c)
        )
        return await self._db.write(lambda c: _first(c, statement, _entry))

    async def remove_entry(self, entry_id: int) -> Entry | None:
        """A moderator deletes an entry (or its member left): it leaves the tally."""
        statement = (
            update(ENTRIES)
            .where(ENTRIES.c.id == entry_id, _counting())
            .values(removed_at=utcnow())
            .returning(*ENTRIES.c)
        )
        return await self._db.write(lambda c: _first(c, statement, _entry))

    async def remove_member(self, guild_id: int, member_id: int) -> int:
        """A member left the server: their entries in its live challenges leave the tally."""
        live = select(CHALLENGES.c.id).where(
            CHALLENGES.c.guild_id == guild_id, CHALLENGES.c.phase.in_([p.value for p in LIVE])
        )
        statement = (
            update(ENTRIES)
            .where(
                ENTRIES.c.member_id == member_id,
                _counting(),
                ENTRIES.c.challenge_id.in_(live.scalar_subquery()),
            )
            .values(removed_at=utcnow())
        )
        return await self._db.write(lambda c: int(c.execute(statement).rowcount or 0))

    async def entries(self, challenge_id: int, *, counting: bool = True) -> list[Entry]:
        statement = select(ENTRIES).where(ENTRIES.c.challenge_id == challenge_id)
        if counting:
            statement = statement.where(_counting())
        statement = statement.order_by(ENTRIES.c.id)
        return await self._db.write(lambda c: [_entry(row) for row in c.execute(statement)])

    async def entry(self, entry_id: int) -> Entry | None:
        statement = select(ENTRIES).where(ENTRIES.c.id == entry_id)
        return await self._db.write(lambda c: _first(c, statement, _entry))

    async def member_entries(self, challenge_id: int, member_id: int) -> list[Entry]:
        statement = (
            select(ENTRIES)
            .where(ENTRIES.c.challenge_id == challenge_id, ENTRIES.c.member_id == member_id, _counting())
            .order_by(ENTRIES.c.id)
        )
        return await self._db.write(lambda c: [_entry(row) for row in c.execute(statement)])

    async def set_post(self, entry_id: int, post: dict[str, Any]) -> None:
        await self._db.write(
            lambda c: c.execute(update(ENTRIES).where(ENTRIES.c.id == entry_id).values(post=post))
        )

    # --- votes and scores -------------------------------------------------------------------------

    async def vote(self, challenge_id: int, entry_id: int, voter_id: int, place: int = 0) -> bool:
        """Record a vote while voting is open; False if this exact vote was already there.

        Refusal for: voting not open, an entry not in the running, the voter's own entry. A ranked
        place replaces the voter's earlier choice for that place, and the entry's earlier place.
        """

        def work(connection: Connection) -> bool:
            phase = connection.execute(
                select(CHALLENGES.c.phase).where(CHALLENGES.c.id == challenge_id)
            ).scalar()
            if phase != Phase.VOTING:
                raise Refusal("challenge.not_voting")
            entry = _in_running(connection, challenge_id, entry_id)
            if entry.member_id == voter_id:
                raise Refusal("challenge.own_entry")
            mine = and_(VOTES.c.challenge_id == challenge_id, VOTES.c.voter_id == voter_id)
            same = connection.execute(
                select(VOTES.c.place).where(mine, VOTES.c.entry_id == entry_id)
            ).scalar_one_or_none()
            if same is not None and same == place:
                return False
            if place:  # a ranked place moves: take back the earlier votes it replaces
                replaced = or_(VOTES.c.place == place, VOTES.c.entry_id == entry_id)
                for old in connection.execute(
                    delete(VOTES).where(mine, replaced).returning(VOTES.c.entry_id, VOTES.c.place)
                ):
                    _count(connection, old.entry_id, -_weight(old.place), -1)
            elif same is not None:
                return False
            connection.execute(
                insert(VOTES).values(
                    challenge_id=challenge_id,
                    entry_id=entry_id,
                    voter_id=voter_id,
                    place=place,
                    created_at=utcnow(),
                )
            )
            _count(connection, entry_id, _weight(place), 1)
            return True

        return await self._db.write(work)

    async def ballot(self, challenge_id: int, voter_id: int) -> dict[int, int]:
        """A voter's own votes: entry → place (0 for a community vote)."""
        statement = select(VOTES.c.entry_id, VOTES.c.place).where(
            VOTES.c.challenge_id == challenge_id, VOTES.c.voter_id == voter_id
        )
        return await self._db.write(lambda c: {row.entry_id: row.place for row in c.execute(statement)})

    async def vote_counts(self, challenge_id: int) -> list[tuple[int, int, int]]:
        """(entry, place, votes) for every entry with votes, counted in the database (the caller
        keeps only the entries in the running: `running`)."""
        statement = (
            select(VOTES.c.entry_id, VOTES.c.place, func.count())
            .where(VOTES.c.challenge_id == challenge_id)
            .group_by(VOTES.c.entry_id, VOTES.c.place)
        )
        return await self._db.write(lambda c: [(r[0], r[1], r[2]) for r in c.execute(statement)])

    async def points(self, challenge_id: int) -> list[tuple[int, int, float, int]]:
        """(entry, member, points, votes) of every entry in the running, best first. Each vote adds
        to its entry's count in the transaction that records it (a community vote is a point; a ranked
        first, second or third place 3, 2 or 1), so counting at the deadline reads the entries only."""
        statement = (
            select(ENTRIES.c.id, ENTRIES.c.member_id, ENTRIES.c.points, ENTRIES.c.votes)
            .where(ENTRIES.c.challenge_id == challenge_id, _counting())
            .order_by(ENTRIES.c.points.desc(), ENTRIES.c.id)
        )
        return await self._db.write(
            lambda c: [(r[0], r[1], float(r[2]), int(r[3])) for r in c.execute(statement)]
        )

    async def running(self, challenge_id: int) -> list[tuple[int, int]]:
        """(entry, member) of the entries in the running: what a tally needs, and nothing more."""
        statement = (
            select(ENTRIES.c.id, ENTRIES.c.member_id)
            .where(ENTRIES.c.challenge_id == challenge_id, _counting())
            .order_by(ENTRIES.c.id)
        )
        return await self._db.write(lambda c: [(r[0], r[1]) for r in c.execute(statement)])

    async def score(
        self, challenge: Challenge, entry_id: int, judge_id: int, values: dict[str, float]
    ) -> None:
        """A judge's scores for one entry (Refusal once they submitted theirs, or outside voting)."""
        criteria = {c.name: c for c in challenge.rules.criteria}

        def work(connection: Connection) -> None:
            phase = connection.execute(
                select(CHALLENGES.c.phase).where(CHALLENGES.c.id == challenge.id)
            ).scalar()
            if phase != Phase.VOTING:
                raise Refusal("challenge.not_voting")
            if judge_id not in challenge.rules.judges:
                raise Refusal("challenge.not_judge")
            _in_running(connection, challenge.id, entry_id)
            locked = connection.execute(
                select(func.count())
                .select_from(SCORES)
                .where(SCORES.c.challenge_id == challenge.id, SCORES.c.judge_id == judge_id, SCORES.c.locked)
            ).scalar_one()
            if locked:
                raise Refusal("challenge.scores_locked")
            for name, value in values.items():
                criterion = criteria.get(name)
                if criterion is None:
                    raise Refusal("challenge.no_criterion", criterion=name)
                if not criterion.low <= value <= criterion.high:
                    raise Refusal(
                        "challenge.score_range", criterion=name, low=criterion.low, high=criterion.high
                    )
                where = and_(
                    SCORES.c.challenge_id == challenge.id,
                    SCORES.c.entry_id == entry_id,
                    SCORES.c.judge_id == judge_id,
                    SCORES.c.criterion == name,
                )
                if connection.execute(update(SCORES).where(where).values(value=value)).rowcount == 0:
                    connection.execute(
                        insert(SCORES).values(
                            challenge_id=challenge.id,
                            entry_id=entry_id,
                            judge_id=judge_id,
                            criterion=name,
                            value=value,
                            locked=False,
                        )
                    )

        await self._db.write(work)

    async def lock_scores(self, challenge_id: int, judge_id: int) -> int:
        """A judge submits: their scores can no longer change. How many were locked."""
        statement = (
            update(SCORES)
            .where(SCORES.c.challenge_id == challenge_id, SCORES.c.judge_id == judge_id)
            .values(locked=True)
        )
        return await self._db.write(lambda c: int(c.execute(statement).rowcount or 0))

    async def judges_done(self, challenge: Challenge) -> bool:
        statement = select(func.count(func.distinct(SCORES.c.judge_id))).where(
            SCORES.c.challenge_id == challenge.id, SCORES.c.locked
        )
        done = await self._db.write(lambda c: int(c.execute(statement).scalar_one()))
        return done >= len(set(challenge.rules.judges))

    async def scores(self, challenge_id: int) -> list[tuple[int, int, str, float]]:
        """(entry, judge, criterion, value) for the entries in the running, from judges who submitted."""
        statement = (
            select(SCORES.c.entry_id, SCORES.c.judge_id, SCORES.c.criterion, SCORES.c.value)
            .join(ENTRIES, ENTRIES.c.id == SCORES.c.entry_id)
            .where(SCORES.c.challenge_id == challenge_id, SCORES.c.locked, _counting())
        )
        return await self._db.write(lambda c: [(r[0], r[1], r[2], r[3]) for r in c.execute(statement)])

    # --- reminders and the season -----------------------------------------------------------------

    async def subscribe(self, challenge_id: int, member_id: int, on: bool = True) -> bool:
        def work(connection: Connection) -> bool:
            if not on:
                return bool(
                    connection.execute(
                        delete(SUBSCRIBERS).where(
                            SUBSCRIBERS.c.challenge_id == challenge_id, SUBSCRIBERS.c.member_id == member_id
                        )
                    ).rowcount
                )
            try:
                with connection.begin_nested():
                    connection.execute(
                        insert(SUBSCRIBERS).values(challenge_id=challenge_id, member_id=member_id)
                    )
            except IntegrityError:
                return False
            return True

        return await self._db.write(work)

    async def subscribers(self, challenge_id: int) -> list[int]:
        statement = select(SUBSCRIBERS.c.member_id).where(SUBSCRIBERS.c.challenge_id == challenge_id)
        return await self._db.write(lambda c: [row.member_id for row in c.execute(statement)])

    async def closed(self, guild_id: int, since: datetime | None = None) -> list[Challenge]:
        """A server's closed challenges (for the season's leaderboard), oldest first."""
        statement = select(CHALLENGES).where(
            CHALLENGES.c.guild_id == guild_id, CHALLENGES.c.phase == Phase.CLOSED
        )
        if since is not None:
            statement = statement.where(CHALLENGES.c.closes_at >= since)
        statement = statement.order_by(CHALLENGES.c.closes_at)
        return await self._db.write(lambda c: [_challenge(row) for row in c.execute(statement)])

    async def participants(self, challenge_ids: Iterable[int]) -> dict[int, set[int]]:
        """challenge → the members who entered it (withdrawn entries excluded)."""
        ids = list(challenge_ids)
        if not ids:
            return {}
        statement = select(ENTRIES.c.challenge_id, ENTRIES.c.member_id).where(
            ENTRIES.c.challenge_id.in_(ids), ENTRIES.c.withdrawn_at.is_(None)
        )

        def work(connection: Connection) -> dict[int, set[int]]:
            found: dict[int, set[int]] = {}
            for row in connection.execute(statement):
                found.setdefault(row.challenge_id, set()).add(row.member_id)
            return found

        return await self._db.write(work)


def _weight(place: int) -> int:
    return {1: 3, 2: 2, 3: 1}.get(place, 1)


def _count(connection: Connection, entry_id: int, points: float, votes: int) -> None:
    connection.execute(
        update(ENTRIES)
        .where(ENTRIES.c.id == entry_id)
        .values(points=ENTRIES.c.points + points, votes=ENTRIES.c.votes + votes)
    )


def _counting() -> Any:
    return and_(ENTRIES.c.withdrawn_at.is_(None), ENTRIES.c.removed_at.is_(None))


def _in_running(connection: Connection, challenge_id: int, entry_id: int) -> Any:
    """The entry's row (its member_id) when it is in this challenge and counting; else Refusal."""
    entry = connection.execute(
        select(ENTRIES.c.member_id).where(
            ENTRIES.c.id == entry_id, ENTRIES.c.challenge_id == challenge_id, _counting()
        )
    ).one_or_none()
    if entry is None:
        raise Refusal("challenge.no_entry")
    return entry


def _first(connection: Connection, statement: Any, make: Any) -> Any:
    row = connection.execute(statement).one_or_none()
    return make(row) if row is not None else None


def _challenge(row: Any) -> Challenge:
    return Challenge(
        id=row.id,
        guild_id=row.guild_id,
        title=row.title,
        brief=row.brief,
        modality=row.modality,
        channel_id=row.channel_id,
        forum=bool(row.forum),
        opens_at=row.opens_at,
        voting_at=row.voting_at,
        closes_at=row.closes_at,
        phase=Phase(row.phase),
        rules=Rules.model_validate(row.rules),
        created_by=row.created_by,
        results=row.results,
        discord=row.discord or {},
    )


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        challenge_id=row.challenge_id,
        member_id=row.member_id,
        job_id=row.job_id,
        made_by=row.made_by,
        caption=row.caption,
        files=tuple(row.files or ()),
        created_at=row.created_at,
        withdrawn_at=row.withdrawn_at,
        removed_at=row.removed_at,
        post=row.post,
    )
