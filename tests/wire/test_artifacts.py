"""Artifact stores: local folder, Redis blobs with TTL and size cap, and an S3 bucket on moto's server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers.s3 import aws_credentials, new_bucket, running_moto
from tests.services import MotoServer
from wire.artifacts import (
    ArtifactNotFound,
    ArtifactStore,
    ArtifactTooLarge,
    LocalArtifactStore,
    RedisArtifactStore,
    safe_filename,
)
from wire.s3 import S3ArtifactStore


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with aws_credentials(), running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(params=["local", "redis", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, redis_client: redis.Redis) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts", max_bytes=1024)
    if request.param == "s3":
        server: MotoServer = request.getfixturevalue("s3_server")
        return S3ArtifactStore(new_bucket(server), max_bytes=1024, endpoint_url=server.url, prefix="t")
    return RedisArtifactStore(redis_client, ttl_s=60, max_bytes=1024)


def test_put_and_get(store: ArtifactStore) -> None:
    ref = store.put("a" * 32, "tune.mid", "audio/midi", "midi", b"MThd-data")
    assert ref.key == f"jobs/{'a' * 32}/tune.mid"
    assert ref.size == 9 and len(ref.sha256) == 64
    assert store.get(ref.key) == b"MThd-data"
    store.delete(ref.key)
    assert not store.exists(ref.key)


def test_inputs_get_unique_keys(store: ArtifactStore) -> None:
    first = store.put_input("../../etc/passwd", "text/plain", b"x")
    second = store.put_input("../../etc/passwd", "text/plain", b"y")
    assert first.key != second.key
    assert ".." not in first.key
    assert store.get(first.key) == b"x"


def test_size_cap(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactTooLarge):
        store.put("a" * 32, "big.bin", "application/octet-stream", "x", b"0" * 2048)


def test_missing_key(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound):
        store.get("jobs/none/nothing.png")


def test_redis_blobs_expire(redis_client: redis.Redis) -> None:
    store = RedisArtifactStore(redis_client, ttl_s=60, max_bytes=1024)
    ref = store.put("b" * 32, "x.txt", "text/plain", "text", b"hello")
    ttl = redis_client.ttl(store.prefix + ref.key)
    assert 0 < int(ttl) <= 60  # type: ignore[arg-type]


def test_local_store_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "a", max_bytes=10)
    with pytest.raises(ArtifactNotFound):
        store.get("../../etc/passwd")


def test_safe_filename() -> None:
    assert safe_filename("my tune (final).mid") == "my_tune_final_.mid"
    assert safe_filename("..") == "file"
