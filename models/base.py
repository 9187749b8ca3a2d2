"""The interface between a worker task and a model backend.

A backend turns a validated job into files and metadata. It reports progress and checks for cancel
through the `GenerationContext` the worker hands it, and raises `GenerationError` (with an
`ErrorCode`) for anything the member should be told about. It never touches Redis or Discord.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from wire.contract import AnyJob, ErrorCode


class GenerationError(Exception):
    """A failure the member should read: the message is user-facing, the code machine-readable."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobCancelled(Exception):
    """Raised by a backend (or `GenerationContext.check_cancelled`) when the job was cancelled."""


class GenerationContext(Protocol):
    """What the worker offers a running backend."""

    job_id: str

    def progress(
        self,
        fraction: float,
        message: str = "",
        *,
        step: int | None = None,
        total: int | None = None,
        preview_text: str | None = None,
    ) -> None:
        """Report progress (throttled by the worker, so call it as often as is natural)."""

    def is_cancelled(self) -> bool:
        """True once someone asked to cancel this job."""

    def check_cancelled(self) -> None:
        """Raise JobCancelled if the job was cancelled."""

    def load_input(self, key: str) -> bytes:
        """Fetch an input artifact (an uploaded MIDI or image) by its key."""


@dataclass(frozen=True)
class OutputFile:
    """One generated file, before it is stored."""

    filename: str
    content_type: str
    kind: str
    data: bytes


@dataclass
class GenerationOutput:
    """What a backend returns: files, metadata (JSON-able) and, for text, the text itself."""

    files: list[OutputFile] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str | None = None


class Backend(abc.ABC):
    """A loaded model that serves one modality. Built once per worker process, on first use."""

    modality: ClassVar[str]

    @abc.abstractmethod
    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        """Run the job to completion (or raise GenerationError / JobCancelled)."""

    def describe(self) -> dict[str, Any]:
        """What `atelier models list` shows about this backend."""
        return {"modality": self.modality, "backend": type(self).__name__}
