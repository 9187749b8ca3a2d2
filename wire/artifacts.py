"""Artifact stores: where generated files (and members' uploads) live. Only keys travel on the queue.

`LocalArtifactStore` keeps files in a folder (one machine). `RedisArtifactStore` keeps them as blobs
with a TTL and a size cap in Redis, so workers on other hosts need nothing but the broker URL.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import Protocol

import redis

from wire.contract import ArtifactRef

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArtifactError(Exception):
    """Base class for artifact store errors."""


class ArtifactNotFound(ArtifactError):
    """No artifact under that key (never stored, or expired)."""


class ArtifactTooLarge(ArtifactError):
    """The file is over the store's size cap."""


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

    def exists(self, key: str) -> bool:
        try:
            self.get(key)
        except ArtifactNotFound:
            return False
        return True


class LocalArtifactStore(ArtifactStore):
    """Files under a folder on this machine."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ArtifactNotFound(key)
        return path

    def _write(self, key: str, data: bytes, *, kept: bool = False) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise ArtifactNotFound(key)
        return path.read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class RedisArtifactStore(ArtifactStore):
    """Blobs in Redis with a TTL: works wherever the broker is reachable."""

    def __init__(self, client: redis.Redis, ttl_s: int, max_bytes: int, prefix: str = "atelier:artifact:"):
        self.client = client
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self.prefix = prefix

    def _write(self, key: str, data: bytes, *, kept: bool = False) -> None:
        self.client.set(self.prefix + key, data, ex=None if kept else self.ttl_s)

    def get(self, key: str) -> bytes:
        data = self.client.get(self.prefix + key)
        if data is None:
            raise ArtifactNotFound(key)
        return bytes(data)  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)


class StoreConfig(Protocol):
    """The artifact settings a store is made from (`config.settings.ArtifactSettings`)."""

    @property
    def store(self) -> str: ...
    @property
    def local_dir(self) -> Path: ...
    @property
    def redis_ttl_s(self) -> int: ...
    @property
    def max_bytes(self) -> int: ...


class StoreSettings(Protocol):
    """Settings that say where artifacts live (`config.settings.Settings`)."""

    @property
    def artifacts(self) -> StoreConfig: ...
    @property
    def artifact_redis_url(self) -> str: ...


def make_store(settings: StoreSettings) -> ArtifactStore:
    """The store the configuration asks for."""
    config = settings.artifacts
    if config.store == "local":
        return LocalArtifactStore(config.local_dir, config.max_bytes)
    client = redis.Redis.from_url(settings.artifact_redis_url)
    return RedisArtifactStore(client, config.redis_ttl_s, config.max_bytes)
