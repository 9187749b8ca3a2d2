"""The challenge buttons (custom ids carry what they act on, so they work after a restart).

- On a result: Submit to challenge (its author only), and a choice of challenge when several fit.
- On the voting announcement: Vote, which opens the member's own ballot — the entries one at a time,
  in an order of their own, without authors — with Vote (or first/second/third choice) and, for
  judges, Score (a form with one field per criterion) and Submit my scores.
- On the opening announcement: Remind me.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import discord

from bot.challenges.lifecycle import shuffled
from bot.challenges.model import Challenge, Entry, Phase, VotingMode
from bot.challenges.repository import Refusal
from bot.core.client import Interaction
from bot.core.components import ButtonContext
from bot.core.components import Phase as MessagePhase
from bot.exts.challenge import strings as _strings  # noqa: F401  (the words of challenges)
from bot.i18n import t

log = logging.getLogger(__name__)

JOB = r"(?P<job>[0-9a-f]{32})"
MAX_ROW_ID = 2**31 - 1
"""Challenge and entry ids are 32-bit integer columns (PostgreSQL refuses anything larger in a query)."""
PLACES = {1: "🥇", 2: "🥈", 3: "🥉"}


def feature(interaction: Interaction) -> Any:
    """The challenge feature's service (set on the client by the extension's setup)."""
    return interaction.client.services.extras["challenges"]


async def say(interaction: Interaction, key: str, **values: Any) -> None:
    text = t(key, interaction.locale, **values)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def refused(interaction: Interaction, refusal: Refusal) -> None:
    await say(interaction, refusal.reason, **refusal.values)


class _Item(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"^$"):
    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> _Item:
        values: dict[str, Any] = {k: (v if k == "job" else _row_id(v)) for k, v in match.groupdict().items()}
        return cls(**values)


def _row_id(digits: str) -> int:
    """A number from a custom id; one past the database's integers names no row, so it reads as 0 (no
    challenge or entry has it) and the click is answered "unknown" instead of failing in the query."""
    value = int(digits)
    return value if value <= MAX_ROW_ID else 0


class SubmitButton(_Item, template=rf"^chal:submit:{JOB}$"):
    def __init__(self, job: str, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("button.challenge_submit", locale), emoji="🏁", custom_id=f"chal:submit:{job}"
            )
        )
        self.job = job

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        service = feature(interaction)
        record = await interaction.client.services.jobs.get(self.job)
        if record is None or record.user_id != interaction.user.id:
            await say(interaction, "challenge.not_your_job")
            return
        fitting = service.open_for(interaction.guild_id, record.modality)
        if not fitting:
            await say(interaction, "challenge.none_open")
            return
        if len(fitting) == 1:
            await enter(interaction, fitting[0], self.job)
            return
        view = discord.ui.View(timeout=None)
        for challenge in fitting[:5]:
            view.add_item(EnterButton(challenge.id, self.job, challenge.title))
        await interaction.response.send_message("🏁", view=view, ephemeral=True)


class EnterButton(_Item, template=rf"^chal:enter:(?P<challenge>\d+):{JOB}$"):
    def __init__(self, challenge: int, job: str, title: str = "Enter") -> None:
        super().__init__(discord.ui.Button(label=title[:80], custom_id=f"chal:enter:{challenge}:{job}"))
        self.challenge, self.job = challenge, job

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        challenge = await feature(interaction).repository.get(self.challenge, interaction.guild_id)
        if challenge is None:
            await say(interaction, "challenge.unknown", id=self.challenge)
            return
        await enter(interaction, challenge, self.job)


async def enter(interaction: Interaction, challenge: Challenge, job_id: str) -> None:
    service = feature(interaction)
    record = await interaction.client.services.jobs.get(job_id)
    if record is None:
        await say(interaction, "challenge.no_job")
        return
    try:
        entry = await service.submit_job(challenge, record, interaction.user)
    except Refusal as refusal:
        await refused(interaction, refusal)
        return
    await say(interaction, "challenge.entered", entry=entry.id, title=challenge.title)


class RemindButton(_Item, template=r"^chal:remind:(?P<challenge>\d+)$"):
    def __init__(self, challenge: int, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("button.challenge_remind", locale), emoji="⏰", custom_id=f"chal:remind:{challenge}"
            )
        )
        self.challenge = challenge

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        repository = feature(interaction).repository
        on = await repository.subscribe(self.challenge, interaction.user.id)
        if not on:
            await repository.subscribe(self.challenge, interaction.user.id, on=False)
        await say(interaction, "challenge.remind_on" if on else "challenge.remind_off")


class BallotButton(_Item, template=r"^chal:ballot:(?P<challenge>\d+)$"):
    def __init__(self, challenge: int, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("button.challenge_ballot", locale),
                emoji="🗳️",
                style=discord.ButtonStyle.primary,
                custom_id=f"chal:ballot:{challenge}",
            )
        )
        self.challenge = challenge

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await show_ballot(interaction, self.challenge, 0, edit=False)


class PageButton(_Item, template=r"^chal:page:(?P<challenge>\d+):(?P<position>\d+)$"):
    def __init__(self, challenge: int, position: int, label: str = "·") -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=f"chal:page:{challenge}:{position}"))
        self.challenge, self.position = challenge, position

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await show_ballot(interaction, self.challenge, self.position, edit=True)


class VoteButton(_Item, template=r"^chal:vote:(?P<challenge>\d+):(?P<entry>\d+):(?P<place>\d)$"):
    def __init__(self, challenge: int, entry: int, place: int, label: str = "") -> None:
        emoji = PLACES.get(place, "✅")
        super().__init__(
            discord.ui.Button(
                label=label or None,
                emoji=emoji,
                style=discord.ButtonStyle.success,
                custom_id=f"chal:vote:{challenge}:{entry}:{place}",
            )
        )
        self.challenge, self.entry, self.place = challenge, entry, place

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        service = feature(interaction)
        challenge = await service.repository.get(self.challenge, interaction.guild_id)
        if challenge is None:
            await say(interaction, "challenge.unknown", id=self.challenge)
            return
        entry = await service.repository.entry(self.entry)
        number = (entry.post or {}).get("number", "?") if entry else "?"
        try:
            new = await service.vote(challenge, self.entry, interaction.user, self.place)
        except Refusal as refusal:
            await refused(interaction, refusal)
            return
        if not new:
            await say(interaction, "challenge.already_voted")
        elif self.place:
            await say(interaction, "challenge.ranked", number=number, place=self.place)
        else:
            await say(interaction, "challenge.voted", number=number)


class ScoreButton(_Item, template=r"^chal:score:(?P<challenge>\d+):(?P<entry>\d+)$"):
    def __init__(self, challenge: int, entry: int, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("button.challenge_score", locale),
                emoji="📝",
                custom_id=f"chal:score:{challenge}:{entry}",
            )
        )
        self.challenge, self.entry = challenge, entry

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        challenge = await feature(interaction).repository.get(self.challenge, interaction.guild_id)
        if challenge is None or interaction.user.id not in challenge.rules.judges:
            await say(interaction, "challenge.not_judge")
            return
        await interaction.response.send_modal(ScoreForm(challenge, self.entry))


class LockButton(_Item, template=r"^chal:lock:(?P<challenge>\d+)$"):
    def __init__(self, challenge: int, locale: str = "en") -> None:
        super().__init__(
            discord.ui.Button(
                label=t("button.challenge_submit_scores", locale),
                emoji="🔒",
                style=discord.ButtonStyle.danger,
                custom_id=f"chal:lock:{challenge}",
            )
        )
        self.challenge = challenge

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        service = feature(interaction)
        challenge = await service.repository.get(self.challenge, interaction.guild_id)
        if challenge is None or interaction.user.id not in challenge.rules.judges:
            await say(interaction, "challenge.not_judge")
            return
        await service.repository.lock_scores(challenge.id, interaction.user.id)
        await say(interaction, "challenge.scores_submitted")
        if challenge.phase is Phase.VOTING and await service.repository.judges_done(challenge):
            await service.close_now(challenge)


class ScoreForm(discord.ui.Modal):
    """One text field per criterion (Discord allows five), each checked against its range."""

    def __init__(self, challenge: Challenge, entry_id: int) -> None:
        super().__init__(
            title=f"{challenge.title}"[:45], custom_id=f"chal:form:{challenge.id}:{entry_id}", timeout=None
        )
        self.challenge, self.entry_id = challenge, entry_id
        self.fields: dict[str, discord.ui.TextInput[Any]] = {}
        for criterion in challenge.rules.criteria[:5]:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=f"{criterion.name} ({criterion.low:g}–{criterion.high:g})"[:45], max_length=8
            )
            self.fields[criterion.name] = field
            self.add_item(field)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        values: dict[str, float] = {}
        for name, field in self.fields.items():
            try:
                values[name] = float(field.value.replace(",", "."))
            except ValueError:
                criterion = next(c for c in self.challenge.rules.criteria if c.name == name)
                await say(
                    interaction,
                    "challenge.score_range",
                    criterion=name,
                    low=criterion.low,
                    high=criterion.high,
                )
                return
        service = feature(interaction)
        try:
            await service.repository.score(self.challenge, self.entry_id, interaction.user.id, values)
        except Refusal as refusal:
            await refused(interaction, refusal)
            return
        entry = await service.repository.entry(self.entry_id)
        await say(
            interaction, "challenge.scored", number=(entry.post or {}).get("number", "?") if entry else "?"
        )


def ballot_order(entries: list[Entry], challenge_id: int, voter_id: int) -> list[Entry]:
    """The entries in an order of this voter's own (stable for them, different from others')."""
    return shuffled(entries, seed=challenge_id * 1_000_003 + voter_id)


async def show_ballot(interaction: Interaction, challenge_id: int, position: int, *, edit: bool) -> None:
    service = feature(interaction)
    challenge = await service.repository.get(challenge_id, interaction.guild_id)
    if challenge is None:
        await say(interaction, "challenge.unknown", id=challenge_id)
        return
    if challenge.phase is not Phase.VOTING:
        await say(interaction, "challenge.not_voting")
        return
    why = service.eligible(challenge, interaction.user)
    if why is not None:
        await say(interaction, why)
        return
    entries = ballot_order(await service.repository.entries(challenge.id), challenge.id, interaction.user.id)
    if not entries:
        await say(interaction, "challenge.ballot_empty")
        return
    position %= len(entries)
    entry = entries[position]
    number = (entry.post or {}).get("number", position + 1)
    mine = await service.repository.ballot(challenge.id, interaction.user.id)
    embed = discord.Embed(
        title=t(
            "challenge.ballot_title",
            interaction.locale,
            title=challenge.title,
            position=position + 1,
            total=len(entries),
        ),
        description=entry.caption[:1000] or None,
    )
    embed.set_footer(text=("AI-made" if entry.made_by == "ai" else "human-made") + f" · entry {number}")
    if entry.id in mine:
        embed.add_field(name="Your vote", value=PLACES.get(mine[entry.id], "✅"))
    view = discord.ui.View(timeout=None)
    own = entry.member_id == interaction.user.id
    if challenge.rules.voting is VotingMode.JUDGES:
        if interaction.user.id in challenge.rules.judges:
            view.add_item(ScoreButton(challenge.id, entry.id, str(interaction.locale.value)))
            view.add_item(LockButton(challenge.id, str(interaction.locale.value)))
    elif not own:
        places = (1, 2, 3) if challenge.rules.voting is VotingMode.RANKED else (0,)
        for place in places:
            view.add_item(
                VoteButton(
                    challenge.id,
                    entry.id,
                    place,
                    t("button.challenge_vote", interaction.locale) if not place else "",
                )
            )
    if len(entries) > 1:
        view.add_item(PageButton(challenge.id, (position - 1) % len(entries), "◀"))
        view.add_item(PageButton(challenge.id, (position + 1) % len(entries), "▶"))
    files = await _files(interaction, entry)
    if edit:
        await interaction.response.edit_message(
            embed=_with_picture(embed, files), attachments=files, view=view
        )
    else:
        await interaction.response.send_message(
            embed=_with_picture(embed, files), files=files, view=view, ephemeral=True
        )


async def _files(interaction: Interaction, entry: Entry) -> list[discord.File]:
    """The entry's picture and audio (the MIDI and the rest stay in the public post)."""
    import asyncio

    store = interaction.client.services.store
    files: list[discord.File] = []
    for ref in entry.files:
        if ref.get("kind") in ("image", "grid", "audio", "upload", "text") and len(files) < 2:
            try:
                data = await asyncio.to_thread(store.get, ref["key"])
            except Exception as error:
                log.info("entry %s file %s is gone: %s", entry.id, ref.get("key"), error)
                continue
            files.append(discord.File(io.BytesIO(data), filename=ref["filename"]))
    return files


def _with_picture(embed: discord.Embed, files: list[discord.File]) -> discord.Embed:
    picture = next(
        (f for f in files if f.filename.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))), None
    )
    if picture is not None:
        embed.set_image(url=f"attachment://{picture.filename}")
    return embed


def submit_buttons(service: Any) -> Any:
    """The result-button provider: Submit to challenge on a succeeded job while one fits."""

    def provide(context: ButtonContext) -> list[discord.ui.Item[Any]]:
        if context.phase is not MessagePhase.SUCCEEDED:
            return []
        if not service.open_for(context.job.guild_id, context.job.modality):
            return []
        return [SubmitButton(context.job.id, context.locale)]

    return provide


BUTTONS: tuple[type[_Item], ...] = (
    SubmitButton,
    EnterButton,
    RemindButton,
    BallotButton,
    PageButton,
    VoteButton,
    ScoreButton,
    LockButton,
)
