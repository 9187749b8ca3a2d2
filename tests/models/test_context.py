"""The tests' doubles keep to the real interfaces: the fake context to the `GenerationContext` protocol
(as the worker's real one does), the gated text backend to the real text backend's constructor."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest

from models.base import GenerationContext, GenerationError, JobCancelled
from tests.helpers.context import RecordingContext, Report, streamed
from workers.runner import WorkerContext


def protocol_methods() -> list[str]:
    return sorted(
        name
        for name, value in vars(GenerationContext).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def protocol_attributes() -> dict[str, Any]:
    return typing.get_type_hints(GenerationContext)


def test_the_protocol_is_what_this_test_reads() -> None:
    """If the protocol grows a member in a way this test does not read, say so instead of passing."""
    assert protocol_methods() == ["check_cancelled", "is_cancelled", "load_input", "progress"]
    assert protocol_attributes() == {"job_id": str}


@pytest.mark.parametrize("implementation", [RecordingContext, WorkerContext])
@pytest.mark.parametrize("name", protocol_methods())
def test_every_method_has_the_protocols_signature(implementation: type, name: str) -> None:
    expected = inspect.signature(getattr(GenerationContext, name), eval_str=True)
    method = getattr(implementation, name, None)
    assert method is not None, f"{implementation.__name__} has no {name}"
    assert inspect.signature(method, eval_str=True) == expected


@pytest.mark.parametrize("implementation", [RecordingContext, WorkerContext])
def test_every_attribute_is_declared_with_the_protocols_type(implementation: type) -> None:
    hints = typing.get_type_hints(implementation)
    for name, kind in protocol_attributes().items():
        assert hints.get(name) == kind, f"{implementation.__name__}.{name}: {hints.get(name)!r}"


def test_the_fake_records_cancels_on_cue_and_serves_inputs() -> None:
    context = RecordingContext(job_id="j" * 32, inputs={"k": b"data"}, cancel_after=2, counts=streamed)
    context.progress(0.1, "loading")
    context.progress(0.5, step=1, total=2, preview_text="rain")
    context.check_cancelled()  # one streamed report so far: not yet
    context.progress(1.0, step=2, total=2, preview_text="rain falls")
    assert context.reports[0] == Report(0.1, "loading")
    assert context.reports[2] == Report(1.0, "", 2, 2, "rain falls")
    with pytest.raises(JobCancelled):
        context.check_cancelled()
    assert context.load_input("k") == b"data"
    with pytest.raises(GenerationError):
        context.load_input("missing")


def test_the_gated_backend_is_built_as_the_real_text_backend_is() -> None:
    from models.text.backend import TransformersTextBackend
    from tests.helpers.gated import GatedTextBackend

    real = inspect.signature(TransformersTextBackend.from_preset, eval_str=True)
    gated = inspect.signature(GatedTextBackend.from_preset, eval_str=True)
    assert list(gated.parameters.values()) == list(real.parameters.values())
