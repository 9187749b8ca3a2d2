"""/challenge: members enter and vote, moderators set challenges up and look after them.

Discord cannot hide single subcommands, so the moderators' ones (create, edit, extend, cancel,
close, remove, export) are checked on our side (Manage Server) and a refusal is audited.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from pydantic import ValidationError

from bot.challenges.lifecycle import standings_of
from bot.challenges.model import Challenge, Criterion, NewChallenge, Phase, Rules, VotingMode
from bot.challenges.repository import Refusal
from bot.core.checks import MissingPermissions, ensure_permissions
from bot.core.client import Interaction
from bot.core.services import Services
from bot.exts._shared.uploads import MIB, UploadRule, check_metadata, fetch_checked
from bot.exts.challenge import strings as _strings  # noqa: F401  (the words of challenges)
from bot.exts.challenge.buttons import MAX_ROW_ID, enter
from bot.exts.challenge.render import counted, leaderboard_image, ts
from bot.exts.challenge.service import ChallengeService
from bot.i18n import t
from wire.contract import utcnow

KINDS = [app_commands.Choice(name=k, value=k) for k in ("any", "music", "image", "text")]
RowId = app_commands.Range[int, 1, MAX_ROW_ID]
"""A challenge or entry id: declared within the id column's range, so a crafted one is refused by name."""
MODES = [app_commands.Choice(name=m.value, value=m.value) for m in VotingMode]
UPLOAD = UploadRule(
    option="file",
    expected="an image, audio, MIDI or text file",
    extensions=(".png", ".jpg", ".jpeg", ".webp", ".ogg", ".mp3", ".wav", ".mid", ".midi", ".txt", ".md"),
    content_types=(),
    max_bytes=8 * MIB,
    signatures=(),
)
MENTION = re.compile(r"<@!?(\d+)>|(\d{15,20})")
SEASON_POINTS = {1: 3, 2: 2, 3: 1}


class ChallengeGroup(
    app_commands.Group,
    name=_("challenge"),
    description=_("Community challenges: enter, vote, see the leaderboard."),
    guild_only=True,
):
    def __init__(self, services: Services, service: ChallengeService) -> None:
        super().__init__()
        self.services = services
        self.service = service

    async def _moderator(self, interaction: Interaction) -> bool:
        try:
            ensure_permissions(interaction, manage_guild=True)
        except MissingPermissions as error:
            command = interaction.command.qualified_name if interaction.command else "challenge"
            await self.services.audit.record(
                interaction.guild_id or 0, interaction.user.id, "permission.refused", key=command
            )
            await interaction.client.tree.on_error(interaction, error)
            return False
        return True

    async def _find(self, interaction: Interaction, challenge_id: int) -> Challenge | None:
        challenge = await self.service.repository.get(challenge_id, interaction.guild_id)
        if challenge is None:
            await _say(interaction, "challenge.unknown", id=challenge_id)
        return challenge

    # --- moderators -------------------------------------------------------------------------------

    @app_commands.command(name=_("create"), description=_("Set up a challenge (moderators)."))
    @app_commands.choices(kind=KINDS, voting=MODES)
    @app_commands.describe(
        entries_hours=_("How long entries are taken"),
        voting_hours=_("How long voting lasts"),
        starts_in_minutes=_("When entries open (0: now)"),
        judges=_("For a judges' panel: mention the judges"),
        criteria=_("For judges: e.g. Melody:1-5, Mood:1-5"),
        locked=_("Options every entry must have, e.g. style=reel, tempo=120"),
        role=_("Only members with this role may take part"),
        min_days=_("Only members who joined this many days ago"),
        winner_role=_("A role for the winners, for a while"),
    )
    async def create(
        self,
        interaction: Interaction,
        title: app_commands.Range[str, 1, 100],
        brief: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | discord.ForumChannel,
        entries_hours: app_commands.Range[float, 0.01, 1440.0] = 72.0,
        voting_hours: app_commands.Range[float, 0.01, 720.0] = 48.0,
        kind: str = "any",
        starts_in_minutes: app_commands.Range[int, 0, 43_200] = 0,
        entries_per_member: app_commands.Range[int, 1, 10] = 1,
        uploads: bool = False,
        voting: str = "community",
        judges: str = "",
        criteria: str = "",
        locked: str = "",
        role: discord.Role | None = None,
        min_days: app_commands.Range[int, 0, 3650] = 0,
        winner_role: discord.Role | None = None,
    ) -> None:
        if not await self._moderator(interaction):
            return
        assert interaction.guild_id is not None
        try:
            rules = Rules(
                entries_per_member=entries_per_member,
                uploads=uploads,
                locked=_pairs(locked),
                required_role=role.id if role else None,
                min_member_days=min_days,
                voting=VotingMode(voting),
                judges=tuple(int(a or b) for a, b in MENTION.findall(judges)),
                criteria=_criteria(criteria),
                winner_role=winner_role.id if winner_role else None,
            )
            new = NewChallenge(
                title=title,
                brief=brief,
                modality=kind,  # type: ignore[arg-type]
                channel_id=channel.id,
                forum=isinstance(channel, discord.ForumChannel),
                opens_at=utcnow() + timedelta(minutes=starts_in_minutes),
                submission_hours=entries_hours,
                voting_hours=voting_hours,
                rules=rules,
            )
        except (ValidationError, ValueError) as error:
            await _say(interaction, "challenge.bad_input", reason=_reason(error))
            return
        challenge = await self.service.create(interaction.guild_id, new, interaction.user.id)
        await self._events(interaction, challenge)
        await _say(
            interaction,
            "challenge.created",
            id=challenge.id,
            title=challenge.title,
            opens=ts(challenge.opens_at),
            voting=ts(challenge.voting_at),
            closes=ts(challenge.closes_at),
        )

    @app_commands.command(name=_("extend"), description=_("Give a challenge more time (moderators)."))
    async def extend(
        self, interaction: Interaction, challenge: RowId, hours: app_commands.Range[float, 0.01, 720.0]
    ) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        if found.phase not in (Phase.SCHEDULED, Phase.OPEN, Phase.VOTING):
            await _say(interaction, "challenge.unknown", id=challenge)
            return
        changed = await self.service.extend(found, hours, interaction.user.id)
        await self._events(interaction, changed)
        await _say(interaction, "challenge.extended", id=challenge, closes=ts(changed.closes_at))

    @app_commands.command(name=_("edit"), description=_("Change a challenge's title or brief (moderators)."))
    async def edit(
        self,
        interaction: Interaction,
        challenge: RowId,
        title: app_commands.Range[str, 1, 100] | None = None,
        brief: app_commands.Range[str, 1, 2000] | None = None,
    ) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        values = {k: v for k, v in (("title", title), ("brief", brief)) if v}
        if values:
            await self._events(interaction, await self.service.edit(found, interaction.user.id, **values))
        await _say(interaction, "challenge.edited", id=challenge)

    @app_commands.command(name=_("cancel"), description=_("Cancel a challenge (moderators)."))
    async def cancel(self, interaction: Interaction, challenge: RowId) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        if await self.service.cancel(found, interaction.user.id) is None:
            await _say(interaction, "challenge.unknown", id=challenge)
            return
        await self._drop_events(interaction, found)
        await _say(interaction, "challenge.cancelled", id=challenge)

    @app_commands.command(name=_("close"), description=_("End voting now and post the results (moderators)."))
    async def close(self, interaction: Interaction, challenge: RowId) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        if found.phase is not Phase.VOTING:
            await _say(interaction, "challenge.not_voting")
            return
        await self.service.close_now(found)
        await self.services.audit.record(
            found.guild_id, interaction.user.id, "challenge.closed", key=str(found.id)
        )
        await _say(interaction, "challenge.closed", id=challenge, title=found.title)

    @app_commands.command(name=_("remove"), description=_("Take an entry out of the running (moderators)."))
    async def remove(self, interaction: Interaction, challenge: RowId, entry: RowId) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        removed = await self.service.repository.entry(entry)
        if (
            removed is None
            or removed.challenge_id != found.id
            or await self.service.repository.remove_entry(entry) is None
        ):
            await _say(interaction, "challenge.no_entry")
            return
        await self.services.audit.record(
            found.guild_id, interaction.user.id, "challenge.entry_removed", key=f"{found.id}.{entry}"
        )
        await _say(interaction, "challenge.withdrawn")

    @app_commands.command(name=_("export"), description=_("Download the results as CSV (moderators)."))
    async def export(self, interaction: Interaction, challenge: RowId) -> None:
        if (
            not await self._moderator(interaction)
            or (found := await self._find(interaction, challenge)) is None
        ):
            return
        entries = {e.id: e for e in await self.service.repository.entries(found.id, counting=False)}
        table = await standings_of(self.service.repository, found) if found.results is None else None
        rows = (found.results or {}).get("standings") or [s.__dict__ for s in table or []]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["place", "entry", "number", "member", "made_by", "points", "votes", "caption", "status"]
        )
        for row in rows:
            entry = entries.get(row["entry_id"])
            number = (entry.post or {}).get("number", "") if entry else ""
            writer.writerow(
                [
                    row["place"],
                    row["entry_id"],
                    number,
                    row["member_id"],
                    entry.made_by if entry else "",
                    row["points"],
                    row["votes"],
                    entry.caption if entry else "",
                    found.phase.value,
                ]
            )
        for entry in entries.values():
            if not entry.counts:
                status = "withdrawn" if entry.withdrawn_at else "removed"
                writer.writerow(
                    ["", entry.id, "", entry.member_id, entry.made_by, "", "", entry.caption, status]
                )
        file = discord.File(io.BytesIO(out.getvalue().encode()), filename=f"challenge-{found.id}.csv")
        await interaction.response.send_message(file=file, ephemeral=True)

    # --- members ----------------------------------------------------------------------------------

    @app_commands.command(
        name=_("submit"), description=_("Enter one of your jobs (or an upload, where allowed).")
    )
    async def submit(
        self,
        interaction: Interaction,
        challenge: RowId,
        job: str | None = None,
        file: discord.Attachment | None = None,
        caption: app_commands.Range[str, 0, 500] = "",
    ) -> None:
        found = await self._find(interaction, challenge)
        if found is None:
            return
        if job:
            matches = [
                r
                for r in await self.services.jobs.list_for_user(interaction.user.id, 50, interaction.guild_id)
                if r.id.startswith(job.strip())
            ]
            if len(matches) != 1:
                await _say(interaction, "challenge.no_job")
                return
            await enter(interaction, found, matches[0].id)
            return
        if file is None:
            await _say(interaction, "challenge.no_job")
            return
        check_metadata(file, UPLOAD)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await fetch_checked(file, UPLOAD)
        try:
            entry = await self.service.submit_upload(
                found,
                interaction.user,
                file.filename,
                file.content_type or "application/octet-stream",
                data,
                caption,
            )
        except Refusal as refusal:
            await _say(interaction, refusal.reason, **refusal.values)
            return
        await _say(interaction, "challenge.entered", entry=entry.id, title=found.title)

    @app_commands.command(name=_("withdraw"), description=_("Withdraw your entry before voting opens."))
    async def withdraw(self, interaction: Interaction, challenge: RowId) -> None:
        mine = await self.service.repository.member_entries(challenge, interaction.user.id)
        found = await self.service.repository.get(challenge, interaction.guild_id)
        withdrawn = (
            await self.service.repository.withdraw(mine[-1].id, interaction.user.id)
            if mine and found
            else None
        )
        await _say(interaction, "challenge.withdrawn" if withdrawn else "challenge.nothing_to_withdraw")

    @app_commands.command(name=_("remind"), description=_("Be reminded before the deadlines."))
    async def remind(self, interaction: Interaction, challenge: RowId, on: bool = True) -> None:
        if await self._find(interaction, challenge) is None:
            return
        await self.service.repository.subscribe(challenge, interaction.user.id, on)
        await _say(interaction, "challenge.remind_on" if on else "challenge.remind_off")

    @app_commands.command(name=_("list"), description=_("Challenges on this server."))
    async def list_(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        live = await self.service.repository.for_guild(interaction.guild_id)
        if not live:
            await _say(interaction, "challenge.none_open")
            return
        embed = discord.Embed(title="Challenges", colour=0xF1C40F)
        for c in live[:10]:
            embed.add_field(
                name=f"#{c.id} {c.title} · {c.phase.value}",
                value=f"{c.modality} · entries until <t:{ts(c.voting_at)}:R> · voting until <t:{ts(c.closes_at)}:f>",
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name=_("leaderboard"), description=_("The challenge's results, or the season's leaderboard.")
    )
    async def leaderboard(self, interaction: Interaction, challenge: RowId | None = None) -> None:
        assert interaction.guild_id is not None
        if challenge is not None:
            found = await self._find(interaction, challenge)
            if found is None:
                return
            if found.results is None:
                await _say(interaction, "challenge.no_results", closes=ts(found.closes_at))
                return
            rows = [
                (r["place"], await _name(interaction, r["member_id"]), round(r["points"], 2))
                for r in found.results["standings"][:10]
            ]
            title, unit = (
                found.title,
                {"community": "votes", "ranked": "points", "judges": "score"}[found.rules.voting.value],
            )
        else:
            rows, title, unit = await self._season(interaction), "Season leaderboard", "points"
        image = leaderboard_image(title, rows, unit)
        embed = discord.Embed(title=title, colour=0xF1C40F)
        embed.description = (
            "\n".join(f"{place}. {name} — {counted(f'{points:g}', unit)}" for place, name, points in rows)
            or "—"
        )
        embed.set_image(url="attachment://leaderboard.png")
        await interaction.response.send_message(
            embed=embed, file=discord.File(io.BytesIO(image), filename="leaderboard.png")
        )

    async def _season(self, interaction: Interaction) -> list[tuple[int, str, float]]:
        """Points over the last 90 days: 3, 2 and 1 for first, second and third places, 1 more for
        each challenge entered in a row up to the most recent one (the streak)."""
        assert interaction.guild_id is not None
        closed = await self.service.repository.closed(
            interaction.guild_id, since=utcnow() - timedelta(days=90)
        )
        points: dict[int, float] = {}
        for c in closed:
            for row in (c.results or {}).get("standings", []):
                points[row["member_id"]] = points.get(row["member_id"], 0) + SEASON_POINTS.get(
                    row["place"], 0
                )
        entered = await self.service.repository.participants(c.id for c in closed)
        for member in {m for members in entered.values() for m in members}:
            streak = 0
            for c in reversed(closed):
                if member not in entered.get(c.id, set()):
                    break
                streak += 1
            points[member] = points.get(member, 0) + streak
        ranked = sorted(points.items(), key=lambda kv: -kv[1])[:10]
        rows, place, previous = [], 0, None
        for index, (member, value) in enumerate(ranked, start=1):
            if value != previous:
                place, previous = index, value
            rows.append((place, await _name(interaction, member), value))
        return rows

    # --- Discord scheduled events -----------------------------------------------------------------

    async def _events(self, interaction: Interaction, challenge: Challenge) -> None:
        """Mirror the entry and voting windows as scheduled events (members see their own time
        zone and can subscribe); best effort: it needs the Manage Events permission."""
        guild = interaction.guild
        if guild is None:
            return
        known = dict(challenge.discord or {})
        location = f"#{getattr(guild.get_channel(challenge.channel_id), 'name', 'challenge')}"
        windows = {
            "entries_event": (f"{challenge.title}: entries", challenge.opens_at, challenge.voting_at),
            "voting_event": (f"{challenge.title}: voting", challenge.voting_at, challenge.closes_at),
        }
        for key, (name, start, end) in windows.items():
            if start <= utcnow() and key == "entries_event" and known.get(key) is None:
                start = utcnow() + timedelta(seconds=5)  # an event cannot start in the past
            try:
                if known.get(key):
                    event = await guild.fetch_scheduled_event(int(known[key]))
                    await event.edit(
                        name=name[:100], start_time=start, end_time=end, description=challenge.brief[:1000]
                    )
                else:
                    event = await guild.create_scheduled_event(
                        name=name[:100],
                        start_time=start,
                        end_time=end,
                        description=challenge.brief[:1000],
                        entity_type=discord.EntityType.external,
                        location=location,
                        privacy_level=discord.PrivacyLevel.guild_only,
                    )
                    known[key] = str(event.id)
            except discord.HTTPException as error:
                await self.services.audit.record(
                    guild.id, None, "challenge.event_failed", key=str(challenge.id), detail=str(error)
                )
        await self.service.repository.remember(challenge.id, **known)

    async def _drop_events(self, interaction: Interaction, challenge: Challenge) -> None:
        guild = interaction.guild
        for key in ("entries_event", "voting_event"):
            event_id = (challenge.discord or {}).get(key)
            if guild is not None and event_id:
                try:
                    event = await guild.fetch_scheduled_event(int(event_id))
                    await event.delete()
                except discord.HTTPException:
                    pass

    @extend.autocomplete("challenge")
    @edit.autocomplete("challenge")
    @cancel.autocomplete("challenge")
    @close.autocomplete("challenge")
    @remove.autocomplete("challenge")
    @export.autocomplete("challenge")
    @submit.autocomplete("challenge")
    @withdraw.autocomplete("challenge")
    @remind.autocomplete("challenge")
    @leaderboard.autocomplete("challenge")
    async def _challenges(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        assert interaction.guild_id is not None
        phases = [Phase.SCHEDULED, Phase.OPEN, Phase.VOTING, Phase.CLOSED]
        found = await self.service.repository.for_guild(interaction.guild_id, phases)
        needle = current.lower().strip()
        return [
            app_commands.Choice(name=f"#{c.id} {c.title} ({c.phase.value})"[:100], value=c.id)
            for c in found
            if needle in f"{c.id} {c.title}".lower()
        ][:25]

    @submit.autocomplete("job")
    async def _jobs(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        records = await self.services.jobs.list_for_user(interaction.user.id, 25, interaction.guild_id)
        return [
            app_commands.Choice(
                name=f"{r.id[:8]} {r.modality} {getattr(r.job.options, 'prompt', '')}"[:100], value=r.id
            )
            for r in records
            if r.result is not None and r.id.startswith(current.strip().lower())
        ][:25]


async def _say(interaction: Interaction, key: str, **values: Any) -> None:
    text = t(key, interaction.locale, **values)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def _name(interaction: Interaction, member_id: int) -> str:
    guild = interaction.guild
    member = guild.get_member(member_id) if guild else None
    if member is not None:
        return member.display_name
    try:  # members are not cached without the members intent: ask Discord
        return (await interaction.client.fetch_user(member_id)).display_name
    except discord.HTTPException:
        return f"member {member_id}"


def _pairs(text: str) -> dict[str, str | int | float | bool]:
    """`style=reel, tempo=120` → {"style": "reel", "tempo": 120}."""
    found: dict[str, str | int | float | bool] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"locked options are key=value pairs; {part!r} is not one")
        found[key.strip()] = _number(value.strip())
    return found


def _number(value: str) -> str | int | float | bool:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def _criteria(text: str) -> tuple[Criterion, ...]:
    """`Melody:1-5, Mood:0-10` → criteria with their ranges."""
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, span = part.partition(":")
        low, _, high = span.partition("-")
        found.append(Criterion(name=name.strip(), low=float(low or 0), high=float(high or 10)))
    return tuple(found)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        item = error.errors(include_url=False)[0]
        return f"{'.'.join(str(p) for p in item['loc']) or 'challenge'}: {str(item['msg']).removeprefix('Value error, ')}"
    return str(error)
