"""A seeded creator community, written as an interaction log (`items.jsonl`, `events.jsonl`).

Members have latent tastes over modalities, styles, topics and moods, belong to a circle of friends
(whose work they engage with more: a signal no prompt carries) and come and go at their own rate;
some of them create. Items have a hidden quality. Prompts are paraphrased from templates with
synonyms and a share of noise, so a text model that knows "ocean waves" is near "a stormy coast"
is helped, while the prompt never gives the answer away. Members see what a gallery shows them —
mostly recent work, the popular first, and some older work at random — and engage with what suits
them; each week the community has a theme that creators follow and members warm to.

    python -m bot.discovery.simulate OUT_DIR [--seed N] [--preset default|heldout]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86400

TOPICS: dict[str, list[str]] = {
    "sea": [
        "the sea",
        "ocean waves",
        "a stormy coast",
        "the tide coming in",
        "a lighthouse on the shore",
        "surf at dawn",
        "a quiet harbour",
        "sailboats on open water",
    ],
    "forest": [
        "an old forest",
        "woods in the mist",
        "a grove of birches",
        "tall pines",
        "a mossy woodland path",
        "a clearing among oaks",
    ],
    "city": [
        "city streets at night",
        "a neon skyline",
        "a busy downtown",
        "rooftops of the metropolis",
        "an alley in the rain",
        "traffic lights and crowds",
    ],
    "space": [
        "distant galaxies",
        "a nebula",
        "a night sky full of stars",
        "an astronaut drifting",
        "a planet with rings",
        "a comet over the hills",
    ],
    "cats": [
        "a sleepy cat",
        "a kitten at play",
        "a tabby on a windowsill",
        "two cats curled up",
        "a curious feline",
        "a cat chasing string",
    ],
    "dragons": [
        "a dragon",
        "a wyvern over the hills",
        "a dragon asleep on gold",
        "a serpent of fire",
        "a dragon's egg hatching",
    ],
    "mountains": [
        "snowy peaks",
        "a mountain pass",
        "alpine meadows",
        "a cliff above the clouds",
        "a lonely summit",
    ],
    "autumn": [
        "falling leaves",
        "an autumn orchard",
        "a harvest moon",
        "golden october trees",
        "a pumpkin patch",
    ],
    "winter": ["a snowy village", "frost on the window", "a frozen lake", "a blizzard", "the first snowfall"],
    "love": ["two lovers", "a first kiss", "a love letter", "heartbreak", "a wedding dance"],
    "food": [
        "a bowl of ramen",
        "fresh bread from the oven",
        "a market full of fruit",
        "a cup of coffee",
        "a picnic on the grass",
    ],
    "castle": [
        "a ruined castle",
        "a knight's keep",
        "a medieval tower",
        "a king's great hall",
        "battlements at sunset",
    ],
    "desert": ["sand dunes", "a desert caravan", "an oasis", "a canyon at noon", "a cactus in bloom"],
    "garden": [
        "a garden of roses",
        "wildflowers in a meadow",
        "cherry blossoms",
        "a greenhouse",
        "tulips in spring",
    ],
    "robots": [
        "a friendly robot",
        "a mech in the ruins",
        "an android dreaming",
        "rusty machines",
        "a robot learning to paint",
    ],
    "birds": [
        "a flock of starlings",
        "an owl at night",
        "a heron in the reeds",
        "a crow on a fence",
        "hummingbirds",
    ],
    "trains": [
        "a night train",
        "an old steam engine",
        "a railway station",
        "a journey by rail",
        "tracks through the valley",
    ],
    "ghosts": [
        "a haunted house",
        "a ghost in the hallway",
        "a graveyard in fog",
        "a wandering spirit",
        "a candle in an empty room",
    ],
    "childhood": [
        "a childhood memory",
        "kids playing in the street",
        "a treehouse",
        "summer holidays",
        "a first bicycle",
    ],
    "rain": [
        "rain on the roof",
        "a thunderstorm",
        "puddles and umbrellas",
        "a grey drizzle",
        "the smell of rain",
    ],
}
MOODS: dict[str, list[str]] = {
    "calm": ["calm", "serene", "peaceful", "quiet", "gentle"],
    "dark": ["dark", "ominous", "eerie", "brooding", "grim"],
    "joyful": ["joyful", "bright", "cheerful", "playful", "sunny"],
    "sad": ["melancholy", "sad", "wistful", "lonely", "tender"],
    "epic": ["epic", "grand", "majestic", "heroic", "sweeping"],
}
STYLES: dict[str, dict[str, list[str]]] = {
    "image": {
        "watercolour": ["watercolour", "in watercolor", "soft watercolour wash"],
        "oil": ["oil painting", "thick oil paint", "painted in oils"],
        "pixel": ["pixel art", "16-bit pixel style", "retro pixels"],
        "photo": ["photograph", "35mm photo", "realistic photography"],
        "anime": ["anime style", "manga illustration", "cel shaded anime"],
        "ink": ["ink sketch", "pen and ink drawing", "charcoal sketch"],
        "render": ["3d render", "octane render", "low poly 3d"],
    },
    "music": {
        "reel": ["reel", "fast reel"],
        "jig": ["jig", "double jig"],
        "waltz": ["waltz", "slow waltz"],
        "air": ["air", "slow air"],
        "hornpipe": ["hornpipe"],
        "chorale": ["chorale", "hymn-like chorale"],
    },
    "text": {
        "poem": ["poem", "short poem", "verse"],
        "story": ["story", "short story", "tale"],
        "lyrics": ["song lyrics", "lyrics", "a chorus and verses"],
        "haiku": ["haiku", "a few haiku"],
    },
}
MODALITIES = ("music", "image", "text")
KEYS = ("C", "D", "E", "F", "G", "A", "Bb")
MODES = ("major", "minor", "dorian", "mixolydian")

TEMPLATES: dict[str, list[str]] = {
    "image": [
        "{mood} {topic}, {style}",
        "{style} of {topic}, {mood}",
        "{topic}, {style}, {mood} light",
        "{topic} in {style}",
        "a {mood} scene: {topic}",
        "{topic} ({style})",
    ],
    "text": [
        "a {mood} {style} about {topic}",
        "write a {style}: {topic}, {mood}",
        "{style} about {topic}",
        "{topic} — a {mood} {style}",
        "a {style} on {topic}",
    ],
    "music": [
        "a {mood} {style} in {key} {mode} called '{topic}'",
        "{style} in {key} {mode}, {mood}",
        "{style}, {key} {mode}, inspired by {topic}",
        "a {style} for {topic}",
    ],
}
NOISE = [
    "",
    "",
    "",
    "highly detailed",
    "for my friend",
    "first try",
    "v2",
    "experiment",
    "4k",
    "trending",
    "please",
    "again",
    "quick one",
]


@dataclass(frozen=True)
class Preset:
    """A community's shape."""

    guilds: tuple[tuple[int, int], ...] = ((101, 420), (202, 220))
    """(guild id, members) per server."""
    shared_members: int = 40
    """Members in both servers (the same ids): what they do in one must not shape the other."""
    days: int = 60
    creator_share: float = 0.3
    posts_per_day: float = 0.5
    circles: int = 8
    circle_weight: float = 1.2
    quality_weight: float = 0.7
    topic_concentration: float = 0.35
    sessions_per_day: float = 0.9
    gallery_share: float = 0.2
    """Sessions in the all-modalities gallery; the rest are in one modality's channel."""
    scroll: int = 30
    """How many of a channel's newest unread posts a member looks at."""
    starboard: int = 3
    older: int = 4
    base: float = -4.0
    topic_weight: float = 2.0
    style_weight: float = 1.0
    modality_weight: float = 0.8
    noise_share: float = 0.25
    nsfw_creators: float = 0.05
    theme_boost: float = 0.6


PRESETS = {
    "default": Preset(),
    # Another community, for checking that nothing was tuned to the first: one larger server, fewer
    # circles that matter less, broader tastes, noisier prompts, more browsing of older work.
    "heldout": Preset(
        guilds=((303, 600),),
        shared_members=0,
        days=75,
        creator_share=0.22,
        posts_per_day=0.6,
        circles=5,
        circle_weight=0.8,
        quality_weight=0.9,
        topic_concentration=0.6,
        sessions_per_day=0.7,
        gallery_share=0.35,
        scroll=20,
        starboard=5,
        older=8,
        base=-3.8,
        topic_weight=1.6,
        style_weight=0.8,
        modality_weight=1.0,
        noise_share=0.4,
        nsfw_creators=0.08,
        theme_boost=0.4,
    ),
}


@dataclass
class SimMember:
    id: int
    modality: np.ndarray
    topics: np.ndarray
    styles: dict[str, np.ndarray]
    moods: np.ndarray
    circle: int
    activity: float
    joined: float
    creator_rate: float
    nsfw_ok: bool
    nsfw_creator: bool
    seen: set[int] = field(default_factory=set)
    last_read: dict[int, float] = field(default_factory=dict)


@dataclass
class SimItem:
    index: int
    guild: int
    creator: int
    modality: int
    topic: int
    style: int
    mood: int
    quality: float
    circle: int
    time: float
    nsfw: bool
    prompt: str
    engaged: int = 0


TOPIC_NAMES = list(TOPICS)
MOOD_NAMES = list(MOODS)


def _prompt(rng: np.random.Generator, modality: str, topic: int, style: str, mood: int, noise: float) -> str:
    template = str(rng.choice(TEMPLATES[modality]))
    topic_phrase = str(rng.choice(TOPICS[TOPIC_NAMES[topic]]))
    if rng.random() < noise:  # a stray subject: prompts are not labels
        topic_phrase = str(rng.choice(TOPICS[TOPIC_NAMES[int(rng.integers(len(TOPIC_NAMES)))]]))
    values = {
        "topic": topic_phrase,
        "style": str(rng.choice(STYLES[modality][style])),
        "mood": str(rng.choice(MOODS[MOOD_NAMES[mood]])),
        "key": str(rng.choice(KEYS)),
        "mode": str(rng.choice(MODES)),
    }
    text = template.format(**values)
    extra = str(rng.choice(NOISE))
    return f"{text}, {extra}" if extra else text


def simulate(preset: Preset, seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The community's items and events, in time order."""
    rng = np.random.default_rng(seed)
    items: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    next_member = 1000
    shared: list[SimMember] = []
    for guild_index, (guild, size) in enumerate(preset.guilds):
        members: list[SimMember] = []
        for _ in range(size):
            if guild_index > 0 and len(members) < preset.shared_members and shared:
                members.append(_reborn(rng, shared[len(members) % len(shared)], preset))
                continue
            members.append(_member(rng, next_member, preset))
            next_member += 1
        if guild_index == 0:
            shared = members[: preset.shared_members]
        g_items, g_events = _run(rng, guild, members, preset)
        items += g_items
        events += g_events
    items.sort(key=lambda i: (i["time"], i["item"]))
    events.sort(key=lambda e: (e["time"], e["guild"], e["member"]))
    return items, events


def _member(rng: np.random.Generator, member_id: int, preset: Preset) -> SimMember:
    creator = rng.random() < preset.creator_share
    late = rng.random() < 0.25
    return SimMember(
        id=member_id,
        modality=rng.dirichlet([0.6, 0.6, 0.6]),
        topics=rng.dirichlet([preset.topic_concentration] * len(TOPICS)),
        styles={m: rng.dirichlet([0.7] * len(STYLES[m])) for m in MODALITIES},
        moods=rng.dirichlet([1.5] * len(MOODS)),
        circle=int(rng.integers(preset.circles)),
        activity=float(rng.lognormal(0.0, 0.8)),
        joined=START + (float(rng.uniform(0.2, 0.8)) * preset.days * DAY if late else 0.0),
        creator_rate=float(rng.lognormal(0.0, 0.7)) * preset.posts_per_day if creator else 0.0,
        nsfw_ok=rng.random() < 0.25,
        nsfw_creator=creator and rng.random() < preset.nsfw_creators * 4,
    )


def _reborn(rng: np.random.Generator, other: SimMember, preset: Preset) -> SimMember:
    """The same person on another server: same taste, another circle, their own pace there."""
    return SimMember(
        id=other.id,
        modality=other.modality,
        topics=other.topics,
        styles=other.styles,
        moods=other.moods,
        circle=int(rng.integers(preset.circles)),
        activity=float(rng.lognormal(0.0, 0.8)),
        joined=START,
        creator_rate=other.creator_rate,
        nsfw_ok=other.nsfw_ok,
        nsfw_creator=other.nsfw_creator,
    )


def _run(
    rng: np.random.Generator, guild: int, members: list[SimMember], preset: Preset
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items: list[SimItem] = []
    events: list[dict[str, Any]] = []
    style_names = {m: list(STYLES[m]) for m in MODALITIES}
    themes = rng.permutation(len(TOPICS))
    by_id = {m.id: m for m in members}
    for day in range(preset.days):
        theme = int(themes[(day // 7) % len(themes)])
        day_start = START + day * DAY
        # creation
        for member in members:
            if member.creator_rate <= 0 or member.joined > day_start + DAY:
                continue
            for _ in range(int(rng.poisson(member.creator_rate))):
                modality = int(rng.choice(3, p=member.modality))
                topic = theme if rng.random() < 0.3 else int(rng.choice(len(TOPICS), p=member.topics))
                name = MODALITIES[modality]
                style = int(rng.choice(len(STYLES[name]), p=member.styles[name]))
                mood = int(rng.choice(len(MOODS), p=member.moods))
                at = day_start + float(rng.uniform(0, DAY))
                at = max(at, member.joined)
                item = SimItem(
                    index=len(items),
                    guild=guild,
                    creator=member.id,
                    modality=modality,
                    topic=topic,
                    style=style,
                    mood=mood,
                    quality=float(rng.normal()),
                    circle=member.circle,
                    time=at,
                    nsfw=member.nsfw_creator and rng.random() < 0.5,
                    prompt=_prompt(rng, name, topic, style_names[name][style], mood, preset.noise_share),
                )
                items.append(item)
        if not items:
            continue
        # consumption
        times = np.array([i.time for i in items])
        quality = np.array([i.quality for i in items])
        modality_of = np.array([i.modality for i in items])
        topic_of = np.array([i.topic for i in items])
        style_of = np.array([i.style for i in items])
        mood_of = np.array([i.mood for i in items])
        circle_of = np.array([i.circle for i in items])
        creator_of = np.array([i.creator for i in items])
        nsfw_of = np.array([i.nsfw for i in items])
        engaged = np.array([i.engaged for i in items], dtype=float)
        style_size = np.array([len(STYLES[MODALITIES[m]]) for m in modality_of])
        for member in members:
            if member.joined > day_start + DAY:
                continue
            for _ in range(int(rng.poisson(preset.sessions_per_day * member.activity))):
                at = max(day_start + float(rng.uniform(0, DAY)), member.joined)
                view = _exposure(rng, member, at, times, modality_of, engaged, preset)
                view = view[[int(v) not in member.seen and creator_of[v] != member.id for v in view]]
                if not member.nsfw_ok:
                    view = view[~nsfw_of[view]]
                if len(view) == 0:
                    continue
                style_taste = np.array(
                    [
                        member.styles[MODALITIES[m]][st]
                        for m, st in zip(modality_of[view], style_of[view], strict=True)
                    ]
                )
                utility = (
                    preset.modality_weight * np.log(3 * member.modality[modality_of[view]] + 0.05)
                    + preset.topic_weight * np.log(len(TOPICS) * member.topics[topic_of[view]] + 0.05)
                    + preset.style_weight * np.log(style_size[view] * style_taste + 0.05)
                    + 0.3 * np.log(len(MOODS) * member.moods[mood_of[view]] + 0.05)
                    + preset.quality_weight * quality[view]
                    + preset.circle_weight * (circle_of[view] == member.circle)
                    + preset.theme_boost * (topic_of[view] == theme)
                )
                p = 1.0 / (1.0 + np.exp(-(utility + preset.base)))
                hits = rng.random(len(view)) < p
                for v, hit, u in zip(view, hits, utility, strict=True):
                    v = int(v)
                    when = at + float(rng.uniform(0, 1800))
                    if hit:
                        member.seen.add(v)
                        engaged[v] += 1
                        items[v].engaged += 1
                        for event in _events_for(rng, MODALITIES[modality_of[v]]):
                            events.append(_event(guild, member.id, v, event, when))
                            when += float(rng.uniform(5, 120))
                    elif u + preset.base < -7.0 and rng.random() < 0.02:
                        member.seen.add(v)
                        events.append(_event(guild, member.id, v, "not_for_me", when))
    assert all(m.id in by_id for m in members)
    out_items = [
        {
            "guild": guild,
            "item": _item_id(guild, i.index),
            "creator": i.creator,
            "modality": MODALITIES[i.modality],
            "prompt": i.prompt,
            "time": round(i.time, 1),
            "nsfw": bool(i.nsfw),
        }
        for i in items
    ]
    return out_items, events


def _exposure(
    rng: np.random.Generator,
    member: SimMember,
    at: float,
    times: np.ndarray,
    modality_of: np.ndarray,
    engaged: np.ndarray,
    preset: Preset,
) -> np.ndarray:
    """What a session shows: a channel's posts since the member last read it (newest first, as far
    as they scroll), a few of the week's most engaged posts (the starboard) and a few older ones."""
    existing = np.flatnonzero(times < at)
    if rng.random() < preset.gallery_share:
        channel = -1  # the all-modalities gallery
        in_channel = existing
    else:
        channel = int(rng.choice(3, p=member.modality))
        in_channel = existing[modality_of[existing] == channel]
    since = member.last_read.get(channel, at - 3 * DAY)
    member.last_read[channel] = at
    new_posts = in_channel[times[in_channel] > since][::-1][: preset.scroll]
    week = existing[times[existing] > at - 7 * DAY]
    starboard = week[np.argsort(-engaged[week], kind="stable")[: preset.starboard]] if len(week) else week
    older = existing[times[existing] <= at - 7 * DAY]
    picked = rng.choice(older, size=min(len(older), preset.older), replace=False) if len(older) else older
    return np.unique(np.concatenate([new_posts, starboard, picked]).astype(np.int64))


def _event(guild: int, member: int, index: int, event: str, when: float) -> dict[str, Any]:
    return {
        "guild": guild,
        "member": member,
        "item": _item_id(guild, index),
        "event": event,
        "time": round(when, 1),
    }


def _events_for(rng: np.random.Generator, modality: str) -> list[str]:
    """What an engagement looks like in the log: a first event, sometimes a second."""
    first = {
        "music": ["play", "play", "reaction", "extend", "vote"],
        "image": ["reaction", "reaction", "see", "variation", "vote"],
        "text": ["reaction", "see", "see", "reroll", "vote"],
    }[modality]
    chosen = [str(rng.choice(first))]
    if rng.random() < 0.25:
        chosen.append("reaction" if chosen[0] != "reaction" else "more_like_this")
    return chosen


def _item_id(guild: int, index: int) -> str:
    return f"g{guild}-i{index}"


def write(out: Path, items: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "items.jsonl").open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item) + "\n")
    with (out / "events.jsonl").open("w", encoding="utf-8") as f:
        for event in events:
            f.write(json.dumps(event) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    args = parser.parse_args(argv)
    items, events = simulate(PRESETS[args.preset], args.seed)
    write(args.out, items, events)
    members = len({(e["guild"], e["member"]) for e in events})
    print(f"{len(items)} items, {len(events)} events, {members} active members → {args.out}")


if __name__ == "__main__":
    main()
