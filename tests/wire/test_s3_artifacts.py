"""The S3 artifact store against a real local S3 server (moto's server mode, a subprocess): where objects
land in the bucket, large files, missing keys, and clear errors for a missing bucket, refused
credentials and an unreachable server. The contract every store keeps is in test_artifacts.py."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from tests.helpers.s3 import (
    REGION,
    SECRET,
    aws_credentials,
    new_bucket,
    object_keys,
    raw_client,
    running_moto,
)
from tests.services import MotoServer, free_port
from wire.artifacts import ArtifactNotFound, ArtifactUnavailable, make_store
from wire.s3 import S3ArtifactStore

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with aws_credentials(), running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def bucket(s3_server: MotoServer) -> str:
    return new_bucket(s3_server)


def _store(server: MotoServer, bucket: str, prefix: str = "", max_bytes: int = 32 * MiB) -> S3ArtifactStore:
    return S3ArtifactStore(bucket, max_bytes, endpoint_url=server.url, region=REGION, prefix=prefix)


def test_objects_land_under_the_prefix_with_their_bytes(s3_server: MotoServer, bucket: str) -> None:
    store = _store(s3_server, bucket, prefix="/atelier/")
    ref = store.put("c" * 32, "tune.mid", "audio/midi", "midi", b"MThd-bytes")
    kept = store.put_kept("challenge-7", "entry.png", "image/png", "upload", b"\x89PNG-entry")
    assert object_keys(s3_server, bucket) == {f"atelier/{ref.key}", f"atelier/{kept.key}"}
    raw = raw_client(s3_server).get_object(Bucket=bucket, Key=f"atelier/{kept.key}")
    assert raw["Body"].read() == b"\x89PNG-entry"
    assert raw["Metadata"] == {"kept": "true"}
    assert store.exists(ref.key) and store.get(ref.key) == b"MThd-bytes"


def test_a_large_binary_round_trips_intact(s3_server: MotoServer, bucket: str) -> None:
    data = os.urandom(20 * MiB)
    store = _store(s3_server, bucket)
    ref = store.put("d" * 32, "grid.png", "image/png", "grid", data)
    assert ref.size == len(data) and ref.sha256 == hashlib.sha256(data).hexdigest()
    again = _store(s3_server, bucket)  # another process's client: nothing kept in this one
    assert hashlib.sha256(again.get(ref.key)).hexdigest() == ref.sha256


def test_missing_keys(s3_server: MotoServer, bucket: str) -> None:
    store = _store(s3_server, bucket)
    with pytest.raises(ArtifactNotFound):
        store.get("jobs/none/nothing.png")
    assert not store.exists("jobs/none/nothing.png")
    store.delete("jobs/none/nothing.png")  # gone already: no error
    ref = store.put_input("a.mid", "audio/midi", b"MThd")
    store.delete(ref.key)
    with pytest.raises(ArtifactNotFound):
        store.get(ref.key)


def test_a_missing_bucket_is_named_in_a_clear_error(s3_server: MotoServer) -> None:
    store = _store(s3_server, "atelier-no-such-bucket")
    with pytest.raises(ArtifactUnavailable, match=r"'atelier-no-such-bucket'.*does not exist.*S3__BUCKET"):
        store.check()
    with pytest.raises(ArtifactUnavailable, match="does not exist"):
        store.put("e" * 32, "x.txt", "text/plain", "text", b"x")
    with pytest.raises(ArtifactUnavailable, match="does not exist"):
        store.get("jobs/x/x.txt")


def test_refused_credentials_say_so_without_the_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """moto with authentication on refuses a key it never issued, as S3 does."""
    caplog.set_level(logging.DEBUG)
    with aws_credentials(), running_moto(tmp_path, auth=True) as server:
        store = _store(server, "atelier-any-bucket")
        for attempt in (store.check, lambda: store.put_input("a.txt", "text/plain", b"x")):
            with pytest.raises(ArtifactUnavailable, match="refused our credentials") as caught:
                attempt()
            assert "AWS_ACCESS_KEY_ID" in str(caught.value)
            assert SECRET not in str(caught.value)
            assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert SECRET not in caplog.text and SECRET not in repr(store)


def test_an_unreachable_server_is_a_clear_error() -> None:
    with aws_credentials():
        store = S3ArtifactStore("atelier-b", MiB, endpoint_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(ArtifactUnavailable, match=r"could not reach the S3 store at http://127\.0\.0\.1"):
            store.get("jobs/x/y.txt")


def test_settings_choose_the_s3_store(s3_server: MotoServer, bucket: str) -> None:
    settings = load_settings(
        artifacts={"store": "s3", "s3": {"bucket": bucket, "endpoint_url": s3_server.url, "prefix": "p"}}
    )
    store = make_store(settings)
    assert isinstance(store, S3ArtifactStore) and store.prefix == "p/"
    ref = store.put("f" * 32, "a.txt", "text/plain", "text", b"hi")
    assert object_keys(s3_server, bucket) == {f"p/{ref.key}"}
    assert SECRET not in json.dumps(settings.masked())  # credentials are never settings


def test_s3_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="ATELIER_ARTIFACTS__S3__BUCKET"):
        load_settings(artifacts={"store": "s3"})
    with pytest.raises(ConfigError, match=r"ATELIER_ARTIFACTS__S3__ENDPOINT_URL: .*http://"):
        load_settings(artifacts={"store": "s3", "s3": {"bucket": "b", "endpoint_url": "minio:9000"}})
