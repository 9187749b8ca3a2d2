"""Option values for every slash command, from the schema the bot synced from its command tree: valid
ones (any value the schema allows, with ids of this world's members, channels, roles, jobs and
challenges) and crafted ones with one thing wrong, as only a modified client could send them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bot.sandbox.commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from tests.bot.guilds.documents import import_files

JSON = dict[str, Any]
SCALARS = (STRING, INTEGER, BOOLEAN, NUMBER)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


@dataclass(frozen=True)
class Leaf:
    """A command members can run: its path (`config blocked add`) and its options."""

    path: str
    options: tuple[JSON, ...]


def leaves(command: JSON, prefix: str = "") -> list[Leaf]:
    """Every runnable command (subcommands included) under a synced command."""
    path = f"{prefix} {command['name']}".strip()
    options = command.get("options") or []
    groups = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if not groups:
        return [Leaf(path, tuple(options))]
    found: list[Leaf] = []
    for group in groups:
        found += leaves(group, path)
    return found


@dataclass(frozen=True)
class Known:
    """Ids that exist in this world, so values reach past the first look-up."""

    users: tuple[int, ...]
    channels: tuple[int, ...]
    roles: tuple[int, ...]
    jobs: tuple[str, ...]
    numbers: tuple[int, ...]
    """Small ids that name real rows (challenges, entries)."""


def known_job(known: Known) -> st.SearchStrategy[str]:
    """One of the recent jobs; drawn by position, so a replay draws alike however many jobs exist."""
    jobs = known.jobs or ("0" * 32,)
    return st.integers(0, 19).map(lambda i: jobs[i % len(jobs)])


FILES = st.one_of(
    import_files(),
    st.binary(max_size=400),
    st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    st.just(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"),
)
NAMES = st.sampled_from(["atelier.toml", "terms.txt", "cover.png", "tune.mid", "notes", "x.TOML", "a b.txt"])


def _text_value(option: JSON, known: Known) -> st.SearchStrategy[str]:
    low = int(option.get("min_length") or 0)
    high = int(option.get("max_length") or 200)
    typed = st.one_of(
        TEXT,
        known_job(known),
        st.sampled_from(["all", "tiny", "music", " ", "a, b,,c", "@everyone", "<@1>", "`*_~|"]),
        st.sampled_from(known.users).map(lambda u: f"<@{u}>"),
        st.text(min_size=1, max_size=3).map(lambda t: t * 400),
        st.sampled_from(["a\x00b", "\x00"]),
    )
    return typed.map(lambda v: v[:high]).filter(lambda v: len(v) >= low)


def valid_value(option: JSON, known: Known) -> st.SearchStrategy[Any]:
    """Any value the synced option declares acceptable."""
    kind = option["type"]
    choices = [c["value"] for c in option.get("choices") or []]
    if choices:
        return st.sampled_from(choices)
    low, high = option.get("min_value"), option.get("max_value")
    if kind == STRING:
        return _text_value(option, known)
    if kind == INTEGER:
        low_i = int(low) if low is not None else -(2**53)
        high_i = int(high) if high is not None else 2**53
        small = [n for n in known.numbers if low_i <= n <= high_i]
        return st.integers(low_i, high_i) | (st.sampled_from(small) if small else st.nothing())
    if kind == NUMBER:
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == BOOLEAN:
        return st.booleans()
    if kind in (USER, MENTIONABLE):
        return st.sampled_from(known.users).map(str)
    if kind == CHANNEL:
        return st.sampled_from(known.channels).map(str)
    if kind == ROLE:
        return st.sampled_from(known.roles).map(str)
    if kind == ATTACHMENT:
        return st.tuples(NAMES, FILES, st.sampled_from(["text/plain", "image/png", "audio/midi", ""]))
    raise ValueError(f"option type {kind} is not fuzzed")


def valid_options(leaf: Leaf, known: Known) -> st.SearchStrategy[JSON]:
    required = {o["name"]: valid_value(o, known) for o in leaf.options if o.get("required")}
    optional = {o["name"]: valid_value(o, known) for o in leaf.options if not o.get("required")}
    return st.fixed_dictionaries(required, optional=optional)


def _wrong_type(option: JSON) -> st.SearchStrategy[Any]:
    kind = option["type"]
    if kind == STRING:
        return st.one_of(st.integers(), st.sampled_from([2.5, -0.0, 1e300]), st.booleans())
    if kind == INTEGER:
        return st.one_of(
            TEXT.filter(lambda t: not t.strip().lstrip("-").isdigit()), st.just(2.5), st.booleans()
        )
    if kind == NUMBER:
        return st.one_of(TEXT.filter(lambda t: not t.strip()), st.booleans(), st.just("1.5x"))
    return st.one_of(st.sampled_from(["true", "yes", ""]), st.integers(0, 1))


@st.composite
def crafted_options(draw: st.DrawFn, leaf: Leaf, known: Known) -> tuple[JSON, str]:
    """Valid options with one thing wrong: (the options, the name of the wrong option)."""
    nul_free = valid_options(leaf, known).filter(lambda o: not any("\x00" in str(v) for v in o.values()))
    options = draw(nul_free)  # NUL is refused too: the one wrong thing must be the one made here
    names = {o["name"] for o in leaf.options}
    scalar = [o for o in leaf.options if o["type"] in SCALARS]
    ranged = [o for o in scalar if o["type"] in (INTEGER, NUMBER)]  # Discord bounds every number
    chosen = [o for o in scalar if o.get("choices")]
    lengthy = [o for o in scalar if o["type"] == STRING and o.get("max_length") and not o.get("choices")]
    required = [o for o in leaf.options if o.get("required")]
    kinds = ["unknown"] + ["type"] * bool(scalar) + ["range"] * bool(ranged) + ["choice"] * bool(chosen)
    kinds += ["length"] * bool(lengthy) + ["missing"] * bool(required)
    kind = draw(st.sampled_from(kinds))
    if kind == "unknown":
        name = draw(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=20).filter(
                lambda n: n not in names
            )
        )
        options[name] = draw(st.one_of(TEXT, st.integers(), st.booleans()))
        return options, name
    if kind == "missing":
        option = draw(st.sampled_from(required))
        options.pop(option["name"], None)
        return options, option["name"]
    if kind == "type":
        option = draw(st.sampled_from(scalar))
        options[option["name"]] = draw(_wrong_type(option))
        return options, option["name"]
    if kind == "range":
        option = draw(st.sampled_from(ranged))
        low, high = option.get("min_value", -(2**53)), option.get("max_value", 2**53)
        step = 1 if option["type"] == INTEGER else 0.5
        outside = [
            v
            for v in (low - step if low is not None else None, high + step if high is not None else None)
            if v is not None
        ]
        far = [2**64, -(2**64)] if option["type"] == INTEGER else [1e300, -1e300]
        far = [v for v in far if (low is not None and v < low) or (high is not None and v > high)]
        options[option["name"]] = draw(st.sampled_from(outside + far))
        return options, option["name"]
    if kind == "choice":
        option = draw(st.sampled_from(chosen))
        values = {c["value"] for c in option["choices"]}
        other = TEXT if option["type"] == STRING else st.integers()
        options[option["name"]] = draw(other.filter(lambda v: v not in values))
        return options, option["name"]
    option = draw(st.sampled_from(lengthy))
    limit = int(option["max_length"])
    options[option["name"]] = draw(st.text(min_size=1, max_size=3)).ljust(limit + 1, "x") + "y" * draw(
        st.integers(0, 40)
    )
    return options, option["name"]
