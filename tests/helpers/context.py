"""The one fake `GenerationContext` for backend tests: records progress, serves inputs, cancels on cue.

`tests/models/test_context.py` compares it, member by member, with the protocol in `models/base.py`
and with the worker's real `WorkerContext`, so a change to the protocol breaks that test first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from models.base import GenerationError, JobCancelled
from wire.contract import ErrorCode


@dataclass(frozen=True)
class Report:
    """One `progress` call, as the backend made it."""

    fraction: float
    message: str = ""
    step: int | None = None
    total: int | None = None
    preview_text: str | None = None


def every_report(report: Report) -> bool:
    return True


def streamed(report: Report) -> bool:
    """A report that carries streamed text (the text backend's per-token reports)."""
    return report.preview_text is not None


@dataclass
class RecordingContext:
    """Records every progress report; `load_input` serves `inputs`; once `cancel_after` reports that
    `counts` accepts (all of them by default) have been made, the job reads as cancelled."""

    job_id: str = "0" * 32
    inputs: dict[str, bytes] = field(default_factory=dict)
    cancel_after: int | None = None
    counts: Callable[[Report], bool] = every_report
    reports: list[Report] = field(default_factory=list)

    def progress(
        self,
        fraction: float,
        message: str = "",
        *,
        step: int | None = None,
        total: int | None = None,
        preview_text: str | None = None,
    ) -> None:
        self.reports.append(Report(fraction, message, step, total, preview_text))

    def is_cancelled(self) -> bool:
        if self.cancel_after is None:
            return False
        return sum(1 for report in self.reports if self.counts(report)) >= self.cancel_after

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise JobCancelled(self.job_id)

    def load_input(self, key: str) -> bytes:
        """An input by key; a missing one fails as the worker's does (the upload expired)."""
        if key not in self.inputs:
            raise GenerationError(ErrorCode.INVALID_INPUT, f"no input {key!r} in this test")
        return self.inputs[key]
