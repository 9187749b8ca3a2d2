"""Strategies for `/config import` files: settings-shaped TOML (valid, wrong, out of range, unknown
keys, huge strings), arbitrary TOML, deep nesting, damaged exports and plain bytes."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import tomli_w
from hypothesis import strategies as st

from bot.guilds.document import export_settings
from bot.guilds.settings import SAFETY_LEVELS, Approval, GuildSettings, ModalityRules, RoleLimits
from tests.helpers.fuzz import toml_values
from wire.contract import MODALITIES

IDS = st.integers(min_value=1, max_value=2**63 - 1)
ODD = toml_values()
"""Anything TOML can say, standing in for a value of the wrong type."""


def _maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the right shape, sometimes anything at all."""
    return st.one_of(valid, valid, valid, ODD)


def _term() -> st.SearchStrategy[str]:
    return st.one_of(st.text(min_size=0, max_size=70), st.text(min_size=1, max_size=8).map(lambda t: t * 40))


def _rules() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "enabled": _maybe(st.booleans()),
            "channels": _maybe(st.lists(IDS, max_size=60)),
            "presets": _maybe(st.lists(st.text(max_size=70), max_size=5)),
            "defaults": _maybe(
                st.dictionaries(
                    st.text(max_size=20),
                    st.one_of(st.text(max_size=300), st.integers(), st.floats(), st.booleans()),
                    max_size=4,
                )
            ),
            "colour": ODD,
        },
    )


def _limits_row() -> st.SearchStrategy[dict[str, Any]]:
    small = st.integers(min_value=-5, max_value=200_000)
    return st.fixed_dictionaries(
        {"role_id": _maybe(IDS)},
        optional={
            "daily_jobs": _maybe(small),
            "cooldown_s": _maybe(small),
            "concurrent_jobs": _maybe(small),
            "weight": ODD,
        },
    )


def settings_documents() -> st.SearchStrategy[dict[str, Any]]:
    """Documents shaped like a server's settings, each key right, wrong or missing."""
    modality = st.one_of(st.sampled_from(MODALITIES), st.text(max_size=10))
    return st.fixed_dictionaries(
        {},
        optional={
            "modalities": _maybe(st.dictionaries(modality, _rules(), max_size=4)),
            "limits": _maybe(st.lists(_limits_row(), max_size=4)),
            "queue_cap": _maybe(st.integers(min_value=-3, max_value=10**6)),
            "blocked_terms": _maybe(st.lists(_term(), max_size=30)),
            "barred": _maybe(st.lists(IDS, max_size=10)),
            "safety": _maybe(st.sampled_from(SAFETY_LEVELS)),
            "use_automod": _maybe(st.booleans()),
            "audit_channel_id": _maybe(IDS),
            "approval": _maybe(
                st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "channel_id": IDS})
            ),
            "greeting": ODD,
        },
    )


def valid_settings() -> st.SearchStrategy[GuildSettings]:
    """Settings a moderator could have made (within the shipped operator limits)."""
    rules = st.builds(
        ModalityRules,
        enabled=st.booleans(),
        channels=(st.lists(IDS, max_size=3) | st.lists(IDS, min_size=40, max_size=60)).map(tuple),
        presets=st.lists(st.sampled_from(["tiny", "default", "fast"]), max_size=2, unique=True).map(tuple),
        defaults=st.dictionaries(
            st.sampled_from(["tempo", "negative_prompt", "kind"]),
            st.text(max_size=20) | st.text(min_size=1, max_size=2).map(lambda t: t * 600),
        ),
    )
    limits = st.builds(
        RoleLimits,
        role_id=IDS,
        daily_jobs=st.none() | st.integers(0, 1000),
        cooldown_s=st.none() | st.integers(0, 86_400),
        concurrent_jobs=st.none() | st.integers(1, 20),
    )
    return st.builds(
        GuildSettings,
        modalities=st.fixed_dictionaries({m: rules for m in MODALITIES}),
        limits=st.lists(limits, max_size=3, unique_by=lambda r: r.role_id).map(tuple),
        queue_cap=st.none() | st.integers(1, 500),
        blocked_terms=st.lists(st.text(min_size=1, max_size=60).map(str.strip).filter(bool), max_size=5).map(
            lambda terms: tuple(dict.fromkeys(terms))
        ),
        barred=st.lists(IDS, max_size=3).map(tuple),
        safety=st.sampled_from(SAFETY_LEVELS),
        use_automod=st.booleans(),
        audit_channel_id=st.none() | IDS,
        approval=st.builds(Approval, enabled=st.booleans(), channel_id=st.none() | IDS),
    )


def _dumped(document: dict[str, Any]) -> bytes:
    return tomli_w.dumps(document).encode()


@st.composite
def damaged_exports(draw: st.DrawFn) -> bytes:
    """A real export with a few bytes cut, repeated or replaced."""
    raw = bytearray(export_settings(draw(valid_settings())).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["cut", "insert", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if action == "cut":
            del raw[at : at + len(chunk)]
        elif action == "insert":
            raw[at:at] = chunk
        else:
            raw[at : at + len(chunk)] = chunk
    return bytes(raw)


def _slots(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value can be put: each key and list item, and a new key per table."""
    found: list[tuple[Any, ...]] = []
    if isinstance(document, dict):
        found.append((*path, "extra"))
        for key, value in document.items():
            found += [(*path, key), *_slots(value, (*path, key))]
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += [(*path, index), *_slots(value, (*path, index))]
    return found


NEAR_MISSES = st.one_of(
    ODD,
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.integers(min_value=2**63, max_value=2**80) | st.integers(min_value=-(2**80), max_value=-1),
    st.text(min_size=1, max_size=5).map(lambda t: t * 3000),  # huge strings
    st.sampled_from(["\x00", "a\x00b", "\x7f", "\u202e", "@everyone", "<@&1>", "`", "*" * 50]),
)


@st.composite
def near_misses(draw: st.DrawFn) -> bytes:
    """A real export with one value (or one new key) replaced by something odd: NaN, infinities,
    past-64-bit integers, huge strings, wrong types."""
    document = tomllib.loads(export_settings(draw(valid_settings())))
    slots = _slots(document)
    # half the time a server default: the one table whose values the document does not type
    defaults = [slot for slot in slots if len(slot) == 4 and slot[2] == "defaults"]
    *parents, last = draw(st.sampled_from(defaults if draw(st.booleans()) else slots))
    container: Any = document
    for part in parents:
        container = container[part]
    container[last] = draw(NEAR_MISSES)
    return _dumped(document)


def deep_nesting() -> st.SearchStrategy[bytes]:
    """Arrays or inline tables nested far deeper than any settings file."""
    depth = st.integers(min_value=50, max_value=3000)
    arrays = depth.map(lambda n: b"queue_cap = " + b"[" * n + b"]" * n)
    tables = depth.map(lambda n: b"approval = " + b"{a = " * n + b"1" + b"}" * n)
    return arrays | tables


def long_keys() -> st.SearchStrategy[bytes]:
    """Many long unknown keys: a refusal naming each in full would be too long for one message."""
    key = st.text(min_size=1, max_size=3).map(lambda t: (t * 900)[:900])
    return st.lists(key, min_size=3, max_size=20).map(lambda keys: _dumped({k: 1 for k in keys}))


def import_files() -> st.SearchStrategy[bytes]:
    """Any file a moderator (or a fuzzer) could upload to `/config import`."""
    return st.one_of(
        settings_documents().map(_dumped),
        settings_documents().map(_dumped),
        valid_settings().map(lambda s: export_settings(s).encode()),
        damaged_exports(),
        near_misses(),
        near_misses(),
        st.dictionaries(st.text(max_size=15), ODD, max_size=6).map(_dumped),
        long_keys(),
        long_keys(),
        deep_nesting(),
        st.text(max_size=300).map(str.encode),
        st.binary(max_size=300),
        st.integers(70_000, 140_000).map(lambda n: b"# " + b"x" * n),  # over the operator's size limit
    )
