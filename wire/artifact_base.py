"""What every artifact store is: the key scheme (`jobs/`, `inputs/`, `kept/`), the size cap, the errors.

The stores themselves and the factory that picks one from settings are in `wire.artifacts`.
"""

from __future__ import annotations

import abc
import hashlib
import re
import uuid
from pathlib import Path

from wire.contract import ArtifactRef

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArtifactError(Exception):
    """Base class for artifact store errors."""


class ArtifactNotFound(ArtifactError):
    """No artifact under that key (never stored, or expired)."""


class ArtifactTooLarge(ArtifactError):
    """The file is over the store's size cap."""


class ArtifactUnavailable(ArtifactError):
    """The store cannot be used now (unreachable, missing bucket, refused credentials). The message says
    what is wrong in words an operator can act on, and never holds a secret."""


def safe_filename(name: str) -> str:
    """A file name that is safe inside a key and on disk."""
    cleaned = _SAFE.sub("_", Path(name).name).strip("._")
    return cleaned[:100] or "file"


class ArtifactStore(abc.ABC):
    """Put and get files by key."""

    max_bytes: int

    def put(self, job_id: str, filename: str, content_type: str, kind: str, data: bytes) -> ArtifactRef:
        """Store a job's output file and return its reference."""
        key = f"jobs/{job_id}/{safe_filename(filename)}"
        return self._put_ref(key, filename, content_type, kind, data)

    def put_input(self, filename: str, content_type: str, data: bytes) -> ArtifactRef:
        """Store a member's upload (a MIDI to continue, an image to transform)."""
        key = f"inputs/{uuid.uuid4().hex}/{safe_filename(filename)}"
        return self._put_ref(key, filename, content_type, "input", data)

    def put_kept(self, space: str, filename: str, content_type: str, kind: str, data: bytes) -> ArtifactRef:
        """Store a file that must outlive job results (a challenge entry's): no expiry. `space` names
        what keeps it (e.g. "challenge-42"), so it can be removed with what it belongs to."""
        key = f"kept/{safe_filename(space)}/{uuid.uuid4().hex}/{safe_filename(filename)}"
        return self._put_ref(key, filename, content_type, kind, data, kept=True)

    def _put_ref(
        self, key: str, filename: str, content_type: str, kind: str, data: bytes, *, kept: bool = False
    ) -> ArtifactRef:
        if len(data) > self.max_bytes:
            raise ArtifactTooLarge(f"{filename} is {len(data)} bytes; the limit is {self.max_bytes}")
        self._write(key, data, kept=kept)
        return ArtifactRef(
            key=key,
            filename=safe_filename(filename),
            content_type=content_type,
            kind=kind,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    @abc.abstractmethod
    def _write(self, key: str, data: bytes, *, kept: bool = False) -> None: ...

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under a key; ArtifactNotFound if there are none."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove a key (no error if it is gone)."""

    def check(self) -> None:
        """Raise ArtifactUnavailable if the store cannot be used (at a process's start)."""
        return None  # a folder or Redis: nothing to check before use

    def exists(self, key: str) -> bool:
        try:
            self.get(key)
        except ArtifactNotFound:
            return False
        return True
