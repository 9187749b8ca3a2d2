"""A real local S3 server for tests (moto's server mode), its test credentials and buckets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from config.settings import S3Settings, Settings
from tests.services import MotoServer

REGION = "us-east-1"
SECRET = "atelier-test-secret-5d1f0e"
"""The test secret key: it must never show up in a message or a log."""
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "atelier-test-key",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_DEFAULT_REGION": REGION,
    # Nothing from this machine's own AWS files or profile.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextmanager
def aws_credentials() -> Iterator[None]:
    """The test credentials in this process's environment, where boto3's chain finds them."""
    with pytest.MonkeyPatch.context() as patch:
        for name in UNSET:
            patch.delenv(name, raising=False)
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        yield


@contextmanager
def running_moto(workdir: Path, *, auth: bool = False, host: str = "127.0.0.1") -> Iterator[MotoServer]:
    """moto's S3 server, listening on `host`, for the duration of the block."""
    server = MotoServer(workdir / f"moto-{uuid.uuid4().hex[:6]}.log", auth=auth, host=host)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def raw_client(server: MotoServer) -> Any:
    """A plain boto3 client on the server, to look at the bucket without going through our store."""
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SECRET,
    )


def new_bucket(server: MotoServer) -> str:
    """A new, empty bucket on the server."""
    name = f"atelier-test-{uuid.uuid4().hex[:12]}"
    raw_client(server).create_bucket(Bucket=name)
    return name


def object_keys(server: MotoServer, bucket: str) -> set[str]:
    """Every key in the bucket, as the server lists them."""
    listed = raw_client(server).list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def s3_env(server: MotoServer, bucket: str, prefix: str = "") -> dict[str, str]:
    """The environment that makes a subprocess (a worker) use the bucket as its artifact store."""
    return {
        **CREDENTIALS,
        "ATELIER_ARTIFACTS__STORE": "s3",
        "ATELIER_ARTIFACTS__S3__BUCKET": bucket,
        "ATELIER_ARTIFACTS__S3__ENDPOINT_URL": server.url,
        "ATELIER_ARTIFACTS__S3__REGION": REGION,
        "ATELIER_ARTIFACTS__S3__PREFIX": prefix,
    }


def with_s3_store(settings: Settings, server: MotoServer, bucket: str, prefix: str = "") -> Settings:
    """`settings` with the bucket as the artifact store, as a bot configured for it would read them."""
    s3 = S3Settings(bucket=bucket, endpoint_url=server.url, region=REGION, prefix=prefix)
    artifacts = settings.artifacts.model_copy(update={"store": "s3", "s3": s3})
    return settings.model_copy(update={"artifacts": artifacts})
