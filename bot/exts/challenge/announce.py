"""Posting what the challenge timers decided (the outbox senders of this feature).

Each sender posts one outbox item with its nonce (a repeated post is answered with the first, so a
retry never posts twice) and returns the message id. Entries are posted by the bot, without their
authors, in a shuffled order, with the vote buttons; in a forum each entry is a post of its own.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord

from bot.challenges.model import Challenge, VotingMode
from bot.db.outbox import OutboxItem
from bot.exts.challenge.buttons import BallotButton, RemindButton, VoteButton
from bot.exts.challenge.render import (
    entry_embed,
    leaderboard_image,
    opened_embed,
    results_embed,
    ts,
    voting_embed,
)
from bot.exts.challenge.service import ChallengeService
from bot.i18n import t

log = logging.getLogger(__name__)
NO_PINGS = discord.AllowedMentions.none()


class Announcer:
    def __init__(self, client: discord.Client, service: ChallengeService) -> None:
        self.client = client
        self.service = service

    def senders(self) -> dict[str, Any]:
        return {
            "challenge.opened": self.opened,
            "challenge.voting": self.voting,
            "challenge.entry": self.entry,
            "challenge.results": self.results,
            "challenge.cancelled": self.cancelled,
            "challenge.reminder": self.reminder,
            "challenge.winner_role": self.winner_role,
            "challenge.unrole": self.unrole,
        }

    async def _challenge(self, item: OutboxItem) -> Challenge:
        challenge = await self.service.repository.get(int(item.payload["challenge_id"]))
        if challenge is None:
            raise LookupError(f"challenge {item.payload['challenge_id']} is gone")
        return challenge

    def _channel(self, item: OutboxItem) -> discord.PartialMessageable:
        assert item.channel_id is not None
        return self.client.get_partial_messageable(item.channel_id, guild_id=item.guild_id)

    async def _post(self, item: OutboxItem, **kwargs: Any) -> int:
        message = await self._channel(item).send(nonce=item.nonce, allowed_mentions=NO_PINGS, **kwargs)
        return message.id

    async def opened(self, item: OutboxItem) -> int:
        challenge = await self._challenge(item)
        await self.service.refresh(challenge.guild_id)
        view = discord.ui.View(timeout=None).add_item(RemindButton(challenge.id))
        return await self._post(item, embed=opened_embed(challenge), view=view)

    async def voting(self, item: OutboxItem) -> int:
        challenge = await self._challenge(item)
        await self.service.refresh(challenge.guild_id)
        entries = await self.service.repository.entries(challenge.id)
        view = discord.ui.View(timeout=None).add_item(BallotButton(challenge.id))
        message_id = await self._post(item, embed=voting_embed(challenge, len(entries)), view=view)
        await self.service.repository.remember(challenge.id, voting_message=str(message_id))
        return message_id

    async def entry(self, item: OutboxItem) -> int | None:
        challenge = await self._challenge(item)
        entry = await self.service.repository.entry(int(item.payload["entry_id"]))
        if entry is None or not entry.counts:
            return None  # withdrawn or removed meanwhile: nothing to post
        if entry.post:
            return int(entry.post["message"])  # posted before a restart
        number = int(item.payload["number"])
        embed = entry_embed(challenge, number, entry.made_by, entry.caption)
        files = await asyncio.to_thread(self._files, entry.files)
        picture = next(
            (f for f in files if f.filename.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))), None
        )
        if picture is not None:
            embed.set_image(url=f"attachment://{picture.filename}")
        view = discord.ui.View(timeout=None)
        if challenge.rules.voting is VotingMode.COMMUNITY:
            view.add_item(VoteButton(challenge.id, entry.id, 0, "Vote"))
        elif challenge.rules.voting is VotingMode.RANKED:
            for place in (1, 2, 3):
                view.add_item(VoteButton(challenge.id, entry.id, place))
        forum = self.client.get_channel(challenge.channel_id)
        if isinstance(forum, discord.ForumChannel):
            created = await forum.create_thread(
                name=f"Entry {number}", embed=embed, files=files, view=view, allowed_mentions=NO_PINGS
            )
            post = {"channel": str(created.thread.id), "message": str(created.message.id), "number": number}
        else:
            message_id = await self._post(item, embed=embed, files=files, view=view)
            post = {"channel": str(challenge.channel_id), "message": str(message_id), "number": number}
        await self.service.repository.set_post(entry.id, post)
        return int(str(post["message"]))

    async def results(self, item: OutboxItem) -> int:
        challenge = await self._challenge(item)
        await self.service.refresh(challenge.guild_id)
        standings = (challenge.results or {}).get("standings", [])
        entries = {e.id: e for e in await self.service.repository.entries(challenge.id, counting=False)}
        numbers = {eid: int((e.post or {}).get("number", 0)) for eid, e in entries.items()}
        embed = results_embed(challenge, standings, numbers)
        names = {
            row["member_id"]: await self._name(challenge.guild_id, row["member_id"]) for row in standings[:10]
        }
        unit = {"community": "votes", "ranked": "points", "judges": "score"}[challenge.rules.voting.value]
        image = leaderboard_image(
            challenge.title,
            [(row["place"], names[row["member_id"]], round(row["points"], 2)) for row in standings[:10]],
            unit,
        )
        embed.set_image(url="attachment://results.png")
        file = discord.File(io.BytesIO(image), filename="results.png")
        return await self._post(item, embed=embed, file=file)

    async def cancelled(self, item: OutboxItem) -> int:
        challenge = await self._challenge(item)
        return await self._post(item, content=t("announce.cancelled", "en", title=challenge.title))

    async def reminder(self, item: OutboxItem) -> int | None:
        challenge = await self._challenge(item)
        before = item.payload.get("before", "submit")
        at = ts(challenge.voting_at if before == "submit" else challenge.closes_at)
        assert item.user_id is not None
        user = await self.client.fetch_user(item.user_id)
        message = await user.send(
            t(f"announce.reminder_{before}", "en", title=challenge.title, at=at), allowed_mentions=NO_PINGS
        )
        return message.id

    async def winner_role(self, item: OutboxItem) -> None:
        await self._roles(item, add=True)

    async def unrole(self, item: OutboxItem) -> None:
        await self._roles(item, add=False)

    async def _roles(self, item: OutboxItem, *, add: bool) -> None:
        assert item.guild_id is not None
        role = int(item.payload["role_id"])
        for member in item.payload.get("winners", []):
            call = self.client.http.add_role if add else self.client.http.remove_role
            try:
                await call(item.guild_id, int(member), role, reason="Atelier challenge winner")
            except discord.NotFound:
                log.info("winner %s left guild %s; no role to change", member, item.guild_id)

    async def _name(self, guild_id: int, member_id: int) -> str:
        guild = self.client.get_guild(guild_id)
        member = guild.get_member(member_id) if guild else None
        if member is not None:
            return member.display_name
        try:
            return (await self.client.fetch_user(member_id)).display_name
        except discord.HTTPException:
            return f"member {member_id}"

    def _files(self, refs: tuple[dict[str, Any], ...]) -> list[discord.File]:
        files = []
        for ref in refs:
            try:
                data = self.service.services.store.get(ref["key"])
            except Exception as error:
                log.warning("an entry's file %s is gone: %s", ref.get("key"), error)
                continue
            files.append(discord.File(io.BytesIO(data), filename=ref["filename"]))
        return files
