"""The challenge feature's work in the bot: creating and changing challenges, taking entries and votes.

The database is the truth (bot/challenges); this adds what needs the bot: the member's eligibility
(roles, time in the server), copying an entry's files where they do not expire, scheduling the
deadlines, waking the outbox, and knowing which challenges are open on each server (so the "Submit to
challenge" button appears on a result only while one fits).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.challenges import lifecycle
from bot.challenges.model import Challenge, Entry, NewChallenge, Phase
from bot.challenges.repository import ChallengeRepository, Refusal
from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.db.outbox import OutboxRepository
from bot.db.status import JobStatus
from bot.metrics import record as metrics
from wire.contract import utcnow


class ChallengeService:
    def __init__(self, services: Services) -> None:
        self.services = services
        database = services.database
        self.repository = ChallengeRepository(database)
        self.outbox = OutboxRepository(database)
        self._open: dict[int, list[Challenge]] = {}
        """Open challenges by server: what the result-button provider (synchronous) looks at."""

    async def load(self) -> None:
        """Fill the cache of open challenges (at start)."""
        self._open.clear()
        for challenge in await self.repository.live():
            if challenge.phase is Phase.OPEN:
                self._open.setdefault(challenge.guild_id, []).append(challenge)

    def open_for(self, guild_id: int | None, modality: str) -> list[Challenge]:
        if guild_id is None:
            return []
        return [c for c in self._open.get(guild_id, []) if c.fits(modality)]

    async def refresh(self, guild_id: int) -> None:
        self._open[guild_id] = [c for c in await self.repository.for_guild(guild_id) if c.phase is Phase.OPEN]

    # --- moderators ---------------------------------------------------------------------------------

    async def create(self, guild_id: int, new: NewChallenge, by: int) -> Challenge:
        challenge = await self.repository.create(guild_id, new, by)
        await lifecycle.schedule(self.services.timers, challenge)
        if challenge.phase is Phase.OPEN:
            await lifecycle.announce(self.outbox, challenge, "opened")
            self.services.outbox.wake()
        await self.refresh(guild_id)
        await self.services.audit.record(
            guild_id, by, "challenge.created", key=str(challenge.id), new=challenge.title
        )
        return challenge

    async def extend(self, challenge: Challenge, hours: float, by: int) -> Challenge:
        """Push the current phase's deadline (and the ones after it) back by `hours`."""
        shift = timedelta(hours=hours)
        changes: dict[str, Any] = {"closes_at": challenge.closes_at + shift}
        if challenge.phase in (Phase.SCHEDULED, Phase.OPEN):
            changes["voting_at"] = challenge.voting_at + shift
        if challenge.phase is Phase.SCHEDULED:
            changes["opens_at"] = challenge.opens_at + shift
        changed = await self.repository.change(challenge.id, **changes)
        assert changed is not None
        await lifecycle.schedule(self.services.timers, changed)
        await self.services.audit.record(
            challenge.guild_id,
            by,
            "challenge.extended",
            key=str(challenge.id),
            old=challenge.closes_at.isoformat(),
            new=changed.closes_at.isoformat(),
        )
        await self.refresh(challenge.guild_id)
        return changed

    async def edit(self, challenge: Challenge, by: int, **values: Any) -> Challenge:
        changed = await self.repository.change(challenge.id, **values)
        assert changed is not None
        for key, value in values.items():
            await self.services.audit.record(
                challenge.guild_id,
                by,
                "challenge.edited",
                key=f"{challenge.id}.{key}",
                old=getattr(challenge, key),
                new=value,
            )
        await self.refresh(challenge.guild_id)
        return changed

    async def cancel(self, challenge: Challenge, by: int) -> Challenge | None:
        cancelled = await self.repository.move(
            challenge.id, [Phase.SCHEDULED, Phase.OPEN, Phase.VOTING], Phase.CANCELLED
        )
        if cancelled is None:
            return None
        await lifecycle.unschedule(self.services.timers, challenge.id)
        await lifecycle.announce(self.outbox, cancelled, "cancelled")
        self.services.outbox.wake()
        await self.services.audit.record(challenge.guild_id, by, "challenge.cancelled", key=str(challenge.id))
        await self.refresh(challenge.guild_id)
        return cancelled

    async def close_now(self, challenge: Challenge) -> None:
        """Every judge has submitted: the result need not wait for the deadline."""
        closed = await lifecycle.close(self.services.database, challenge.id, utcnow())
        if closed is not None:
            await self.services.timers.cancel(lifecycle.timer_key(challenge.id, "close"))
            if closed.rules.winner_role is not None:
                await self.services.timers.schedule(
                    lifecycle.UNROLE,
                    lifecycle.timer_key(closed.id, "unrole"),
                    utcnow() + timedelta(days=closed.rules.winner_role_days),
                    {"challenge_id": closed.id},
                    closed.guild_id,
                )
            self.services.outbox.wake()
            await self.refresh(challenge.guild_id)

    # --- members ------------------------------------------------------------------------------------

    def eligible(
        self, challenge: Challenge, member: discord.abc.User, now: datetime | None = None
    ) -> str | None:
        """Why a member may not take part (a catalog key), or None."""
        rules = challenge.rules
        if not isinstance(member, discord.Member):
            return "challenge.not_eligible_role" if rules.required_role else None
        if rules.required_role is not None and all(role.id != rules.required_role for role in member.roles):
            return "challenge.not_eligible_role"
        joined = member.joined_at
        if (
            rules.min_member_days
            and joined is not None
            and (now or utcnow()) - joined < timedelta(days=rules.min_member_days)
        ):
            return "challenge.not_eligible_days"
        return None

    async def submit_job(self, challenge: Challenge, record: JobRecord, member: discord.abc.User) -> Entry:
        """Enter one of the member's own succeeded jobs (its files are kept for the challenge)."""
        if record.user_id != member.id:
            raise Refusal("challenge.not_your_job")
        if record.guild_id != challenge.guild_id:
            raise Refusal("challenge.no_job")
        if record.outcome is not JobStatus.SUCCEEDED:
            raise Refusal("challenge.job_not_done")
        if not challenge.fits(record.modality):
            raise Refusal("challenge.wrong_modality", modality=challenge.modality)
        options = record.job.options.model_dump(mode="json")
        for key, value in challenge.rules.locked.items():
            if options.get(key) != value and not (key == "preset" and record.preset == value):
                raise Refusal("challenge.locked_option", option=key, value=value)
        why = self.eligible(challenge, member)
        if why is not None:
            raise Refusal(why)
        files = await asyncio.to_thread(
            self._keep, challenge, [(a.key, a.filename, a.content_type, a.kind) for a in record.artifacts]
        )
        caption = str(getattr(record.job.options, "prompt", "") or describe_options(options))
        entry = await self.repository.add_entry(
            challenge, member.id, job_id=record.id, made_by="ai", caption=caption[:500], files=files
        )
        await self._entered(challenge, entry)
        return entry

    async def submit_upload(
        self,
        challenge: Challenge,
        member: discord.abc.User,
        name: str,
        content_type: str,
        data: bytes,
        caption: str,
    ) -> Entry:
        if not challenge.rules.uploads:
            raise Refusal("challenge.no_uploads")
        why = self.eligible(challenge, member)
        if why is not None:
            raise Refusal(why)
        ref = await asyncio.to_thread(
            self.services.store.put_kept, f"challenge-{challenge.id}", name, content_type, "upload", data
        )
        entry = await self.repository.add_entry(
            challenge,
            member.id,
            job_id=None,
            made_by="human",
            caption=caption[:500],
            files=[ref.model_dump()],
        )
        await self._entered(challenge, entry)
        return entry

    async def vote(
        self, challenge: Challenge, entry_id: int, voter: discord.abc.User, place: int = 0
    ) -> bool:
        why = self.eligible(challenge, voter)
        if why is not None:
            metrics.vote("refused", why)
            raise Refusal(why)
        try:
            counted = await self.repository.vote(challenge.id, entry_id, voter.id, place)
        except Refusal as refusal:
            metrics.vote("refused", refusal.reason)
            raise
        metrics.vote("recorded" if counted else "unchanged")
        return counted

    async def _entered(self, challenge: Challenge, entry: Entry) -> None:
        await self.services.audit.record(
            challenge.guild_id,
            entry.member_id,
            "challenge.entry",
            key=f"{challenge.id}.{entry.id}",
            detail=entry.caption,
        )

    def _keep(
        self, challenge: Challenge, artifacts: Sequence[tuple[str, str, str, str]]
    ) -> list[dict[str, Any]]:
        store = self.services.store
        kept = []
        for key, filename, content_type, kind in artifacts:
            kept.append(
                store.put_kept(
                    f"challenge-{challenge.id}", filename, content_type, kind, store.get(key)
                ).model_dump()
            )
        return kept


def describe_options(options: dict[str, Any]) -> str:
    shown = ("style", "key", "mode", "bars", "tempo")
    return " · ".join(str(options[k]) for k in shown if k in options)
