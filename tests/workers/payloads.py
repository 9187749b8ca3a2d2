"""Strategies for what can arrive as a job on a worker's queue: any JSON at all, and real jobs of the
contract with one thing wrong (a wrong type, a value out of range, an unknown or missing field, a huge
string, a bad id or version). Jobs name a preset no worker has, so a valid one fails fast with
INVALID_INPUT instead of loading a model."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from wire.contract import (
    MODALITIES,
    ImageJob,
    ImageOptions,
    MusicJob,
    MusicOptions,
    TextJob,
    TextOptions,
    field_bounds,
)

MISSING_PRESET = "fuzz-no-such-preset"
OPTIONS: dict[str, type[BaseModel]] = {"music": MusicOptions, "image": ImageOptions, "text": TextOptions}
SURROGATES = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
ANY_TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=40),
    st.tuples(st.text(max_size=10), SURROGATES).map("".join),
)
"""Text with every code point, lone surrogates included (JSON's \\ud800 escapes decode to them)."""


def json_values() -> st.SearchStrategy[Any]:
    """Any value JSON can carry (and Python's json module also writes NaN and infinities)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        ANY_TEXT,
        st.sampled_from(["music", "image", "text", "1", "", "0" * 32]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=12,
    )


def base_job(modality: str) -> dict[str, Any]:
    """A valid job of `modality` as the bot sends it (JSON-ready), on a preset no worker has."""
    if modality == "music":
        job: BaseModel = MusicJob(preset=MISSING_PRESET)
    elif modality == "image":
        job = ImageJob(preset=MISSING_PRESET, options=ImageOptions(prompt="a lighthouse at dusk"))
    else:
        job = TextJob(preset=MISSING_PRESET, options=TextOptions(prompt="a haiku about rain"))
    return job.model_dump(mode="json")


def _bad_numbers(model: type[BaseModel], name: str) -> st.SearchStrategy[Any]:
    """Just outside a field's range, far outside it, and the floats no range admits."""
    low, high = field_bounds(model, name)
    edges = [x for x in (low, high) if isinstance(x, int | float)]
    near = [e - 1 for e in edges if low is not None and e == low] + [e + 1 for e in edges if e == high]
    return st.sampled_from([*near, 2**64, -(2**64), 10**400, math.nan, math.inf, -math.inf, 0.5])


def _option_value(modality: str, name: str) -> st.SearchStrategy[Any]:
    model = OPTIONS[modality]
    return st.one_of(
        _bad_numbers(model, name),
        json_values(),
        st.text(min_size=1, max_size=4).map(lambda t: t * 50_000),  # a huge string
        ANY_TEXT,
    )


ID_LIKE = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    st.text(alphabet="0123456789ABCDEF", min_size=32, max_size=32),
    st.text(alphabet=st.characters(exclude_categories=()), min_size=32, max_size=32),
    st.tuples(st.text(alphabet="0123456789abcdef", min_size=29, max_size=29), SURROGATES)
    .map("".join)
    .map(lambda t: t.ljust(32, "0")[:32]),
    st.text(alphabet="0123456789abcdef", min_size=0, max_size=40),
    json_values(),
)
"""Job ids: good ones, upper case, 32 odd characters (surrogates too), wrong lengths, not strings."""


@st.composite
def broken_jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A real job with one or two things wrong with it."""
    modality = draw(st.sampled_from(MODALITIES))
    job = base_job(modality)
    for _ in range(draw(st.integers(1, 2))):
        change = draw(
            st.sampled_from(["option", "option", "unknown", "drop", "field", "id", "version", "modality"])
        )
        options = job["options"] if isinstance(job.get("options"), dict) else None
        if change == "option" and options is not None:
            name = draw(st.sampled_from(sorted(OPTIONS[modality].model_fields)))
            options[name] = draw(_option_value(modality, name))
        elif change == "unknown":
            target = options if options is not None and draw(st.booleans()) else job
            key = draw(ANY_TEXT)
            if key not in target:
                target[key] = draw(json_values())
        elif change == "drop":
            target = options if options is not None and options and draw(st.booleans()) else job
            droppable = sorted(key for key in target if key != "preset")
            if droppable:
                target.pop(draw(st.sampled_from(droppable)))
        elif change == "field":
            name = draw(
                st.sampled_from(["guild_id", "channel_id", "user_id", "parent_id", "preset", "created_at"])
            )
            value = draw(json_values() | st.integers(min_value=2**63) | ANY_TEXT)
            job[name] = value if name != "preset" or value else MISSING_PRESET  # no preset: a real model
        elif change == "id":
            job["id"] = draw(ID_LIKE)
        elif change == "version":
            job["version"] = draw(st.sampled_from([0, 2, "1", 1.0, None, True]))
        else:
            job["modality"] = draw(st.sampled_from([*MODALITIES, "video", "", None, 3]))
    return job


def payloads() -> st.SearchStrategy[Any]:
    """What a worker may be handed as a job: valid jobs, broken jobs, any JSON, and JSON text."""
    return st.one_of(
        st.sampled_from(MODALITIES).map(base_job),
        broken_jobs(),
        broken_jobs(),
        broken_jobs(),
        json_values(),
        st.text(max_size=200),
    )
