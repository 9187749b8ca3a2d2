"""Hypothesis profiles for the fuzz tests, and strategies more than one of them uses.

`fuzz` (the default) keeps the whole fuzz suite to a couple of minutes on two cores; `fuzz-long`
(`ATELIER_FUZZ_PROFILE=fuzz-long`) runs ten times the examples for a longer hunt. Timings on a shared
machine are noisy, so no deadline; the example database is off, so failures are not replayed from
earlier runs (hypothesis still keeps a small cache in `.hypothesis/`, which it git-ignores itself).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

SUPPRESSED = (HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large)
settings.register_profile("fuzz", deadline=None, database=None, suppress_health_check=SUPPRESSED)
settings.register_profile(
    "fuzz-long", deadline=None, database=None, suppress_health_check=SUPPRESSED, max_examples=1000
)
PROFILE = os.environ.get("ATELIER_FUZZ_PROFILE", "fuzz")
SCALE = 10 if PROFILE == "fuzz-long" else 1


def examples(count: int, *, shrink: bool = True) -> settings:
    """The profile's settings with `count` examples (ten times that under `fuzz-long`); `shrink=False`
    for tests whose examples take seconds (real processes), where shrinking would take many minutes."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(settings.get_profile(PROFILE), max_examples=count * SCALE, phases=phases)


def toml_scalars() -> st.SearchStrategy[Any]:
    """Every kind of value a TOML document can hold (tomli_w writes them all), odd ones included."""
    return st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.integers(),  # past 64 bits too: tomllib reads them
        st.floats(),  # nan and inf included
        st.booleans(),
        st.datetimes(),
        st.dates(),
        st.times(),
    )


def toml_values() -> st.SearchStrategy[Any]:
    """Scalars, arrays and tables, nested a few levels."""
    return st.recursive(
        toml_scalars(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    )
