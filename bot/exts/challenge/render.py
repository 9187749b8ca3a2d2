"""How challenges look in Discord: announcements, blind entry posts, and the results as a picture."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import discord
from PIL import Image, ImageDraw, ImageFont

from bot.challenges.model import Challenge, VotingMode
from bot.challenges.tally import mode_points
from bot.i18n import t

COLOUR = 0xF1C40F
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def ts(value: Any) -> int:
    return int(value.timestamp())


def opened_embed(challenge: Challenge, locale: str = "en") -> discord.Embed:
    embed = discord.Embed(
        title=f"#{challenge.id} {challenge.title}",
        description=t(
            "announce.opened",
            locale,
            title=challenge.title,
            voting=ts(challenge.voting_at),
            brief=challenge.brief,
        ),
        colour=COLOUR,
    )
    rules = challenge.rules
    facts = [
        f"kind: {challenge.modality}",
        f"entries per member: {rules.entries_per_member}",
        "uploads welcome (labelled human-made)" if rules.uploads else "made with Atelier only",
        f"voting: {rules.voting.value}",
    ]
    if rules.locked:
        facts.append("required: " + ", ".join(f"{k}={v}" for k, v in rules.locked.items()))
    if rules.required_role:
        facts.append(f"open to <@&{rules.required_role}>")
    embed.add_field(name="Rules", value="\n".join(facts), inline=False)
    embed.set_footer(text="Enter with /challenge submit, or the Submit to challenge button on your result.")
    return embed


def voting_embed(challenge: Challenge, entries: int, locale: str = "en") -> discord.Embed:
    embed = discord.Embed(
        title=f"#{challenge.id} {challenge.title}",
        description=t("announce.voting", locale, title=challenge.title, closes=ts(challenge.closes_at)),
        colour=COLOUR,
    )
    embed.add_field(name="Entries", value=str(entries))
    if challenge.rules.voting is VotingMode.RANKED:
        embed.add_field(name="How", value="Pick your first, second and third choice (3, 2 and 1 points).")
    elif challenge.rules.voting is VotingMode.JUDGES:
        embed.add_field(
            name="How",
            value="The judges score every entry: " + ", ".join(c.name for c in challenge.rules.criteria),
        )
    return embed


def entry_embed(
    challenge: Challenge, number: int, made_by: str, caption: str, locale: str = "en"
) -> discord.Embed:
    label = "AI-made" if made_by == "ai" else "human-made"
    embed = discord.Embed(title=t("announce.entry", locale, number=number, made_by=label), colour=COLOUR)
    if caption:
        embed.description = caption[:1000]
    embed.set_footer(text=f"{challenge.title} · authors are revealed with the results")
    return embed


def counted(value: float | str, unit: str) -> str:
    """`1 vote`, `2 votes`, `1 point`, `3.50 score`: the unit in the singular for exactly one."""
    one = float(value) == 1.0
    return f"{value} {unit[:-1] if one and unit in ('votes', 'points') else unit}"


def results_embed(
    challenge: Challenge, standings: Sequence[dict[str, Any]], numbers: dict[int, int], locale: str = "en"
) -> discord.Embed:
    embed = discord.Embed(title=t("announce.results", locale, title=challenge.title), colour=COLOUR)
    unit = mode_points(challenge.rules.voting)
    lines = []
    for row in standings[:10]:
        medal = MEDALS.get(row["place"], f"{row['place']}.")
        value = (
            f"{row['points']:.2f}" if challenge.rules.voting is VotingMode.JUDGES else f"{row['points']:g}"
        )
        lines.append(
            f"{medal} <@{row['member_id']}> — entry {numbers.get(row['entry_id'], '?')} · {counted(value, unit)}"
        )
    embed.description = "\n".join(lines) or t("announce.no_entries", locale)
    embed.set_footer(text="Ties share a place. /challenge leaderboard shows the season.")
    return embed


def leaderboard_image(title: str, rows: Sequence[tuple[int, str, float]], unit: str) -> bytes:
    """A leaderboard as a PNG: place, name and a bar for each of the first ten."""
    shown = list(rows)[:10]
    width, row_h, top = 720, 44, 64
    image = Image.new("RGB", (width, top + row_h * max(len(shown), 1) + 24), (32, 34, 37))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    small = ImageFont.load_default(size=18)
    draw.text((24, 20), title[:60], fill=(255, 255, 255), font=font)
    best = max((points for _, _, points in shown), default=0.0) or 1.0
    palette = {1: (241, 196, 15), 2: (189, 195, 199), 3: (205, 127, 50)}
    for index, (place, name, points) in enumerate(shown):
        y = top + index * row_h
        draw.text((24, y + 8), f"{place}.", fill=(220, 221, 222), font=font)
        bar = int((width - 360) * points / best)
        draw.rectangle((70, y + 8, 70 + max(bar, 4), y + 34), fill=palette.get(place, (88, 101, 242)))
        draw.text(
            (80 + max(bar, 4), y + 10),
            f"{name[:24]} · {counted(f'{points:g}', unit)}",
            fill=(220, 221, 222),
            font=small,
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
