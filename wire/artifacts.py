"""Artifact stores: where generated files (and members' uploads) live. Only keys travel on the queue.

`LocalArtifactStore` keeps files in a folder (one machine). `RedisArtifactStore` keeps them as blobs
with a TTL and a size cap in Redis, so workers on other hosts need nothing but the broker URL.
`S3ArtifactStore` (`wire.s3`, boto3) keeps them in an S3-compatible bucket, where they outlive Redis.
The base class and the errors are in `wire.artifact_base`, re-exported here.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol

import redis

from wire.artifact_base import (
    ArtifactError,
    ArtifactNotFound,
    ArtifactStore,
    ArtifactTooLarge,
    ArtifactUnavailable,
    safe_filename,
)

__all__ = [
    "ArtifactError",
    "ArtifactNotFound",
    "ArtifactStore",
    "ArtifactTooLarge",
    "ArtifactUnavailable",
    "LocalArtifactStore",
    "RedisArtifactStore",
    "make_store",
    "safe_filename",
]


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


class S3Config(Protocol):
    """Where an S3-compatible bucket is (`config.settings.S3Settings`)."""

    @property
    def bucket(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def prefix(self) -> str: ...


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
    @property
    def s3(self) -> S3Config: ...


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
    if config.store == "s3":
        from wire.s3 import S3ArtifactStore  # boto3 only where the S3 store is used

        s3 = config.s3
        if not s3.bucket:
            raise ArtifactUnavailable("the S3 store needs a bucket: set ATELIER_ARTIFACTS__S3__BUCKET")
        return S3ArtifactStore(
            s3.bucket, config.max_bytes, endpoint_url=s3.endpoint_url, region=s3.region, prefix=s3.prefix
        )
    client = redis.Redis.from_url(settings.artifact_redis_url)
    return RedisArtifactStore(client, config.redis_ttl_s, config.max_bytes)
