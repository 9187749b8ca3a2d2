"""The S3-compatible artifact store: files in a bucket (AWS S3, MinIO, Cloudflare R2, moto's server).

Objects outlive Redis. Keys are the store's own (`jobs/...`, `inputs/...`, `kept/...`) under an optional
prefix, so an operator's lifecycle rule can expire `jobs/` and `inputs/` and keep `kept/`. Credentials
come from boto3's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role) and never
appear in a message or a log line of ours.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from wire.artifact_base import ArtifactNotFound, ArtifactStore, ArtifactUnavailable

MISSING_KEY = frozenset({"NoSuchKey", "404", "NotFound"})
MISSING_BUCKET = frozenset({"NoSuchBucket"})
REFUSED = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "InvalidToken",
        "AuthorizationHeaderMalformed",
        "403",
        "Forbidden",
    }
)
CREDENTIALS_HINT = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the host's role"


def _shown(url: str | None) -> str:
    """Where the store is, for messages: the endpoint without any user:password part."""
    if url is None:
        return "AWS S3"
    scheme, sep, rest = url.partition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}{sep}{host}"


class S3ArtifactStore(ArtifactStore):
    """Objects in an S3-compatible bucket; boto3's client is thread-safe, so one serves a process."""

    def __init__(
        self,
        bucket: str,
        max_bytes: int,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.max_bytes = max_bytes
        self.endpoint_url = endpoint_url
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.where = _shown(endpoint_url)
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=5,
                read_timeout=60,
                # S3-compatible servers (MinIO, moto, an IP address) take bucket names in the path.
                s3={"addressing_style": "path"} if endpoint_url else {},
            ),
        )

    def __repr__(self) -> str:
        return f"S3ArtifactStore(bucket={self.bucket!r}, endpoint={self.where!r}, prefix={self.prefix!r})"

    def _object(self, key: str) -> str:
        return self.prefix + key

    def _unavailable(self, error: Exception, doing: str) -> ArtifactUnavailable:
        """The error as a sentence an operator can act on (no secrets: boto3's messages hold none)."""
        bucket = f"bucket {self.bucket!r} at {self.where}"
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return ArtifactUnavailable(f"no usable S3 credentials for {bucket}: set {CREDENTIALS_HINT}")
        if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
            return ArtifactUnavailable(f"could not reach the S3 store at {self.where} to {doing}")
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING_BUCKET:
                return ArtifactUnavailable(
                    f"the {bucket} does not exist: create it or fix ATELIER_ARTIFACTS__S3__BUCKET"
                )
            if code in REFUSED:
                return ArtifactUnavailable(
                    f"the S3 store refused our credentials for {bucket} ({code}): check {CREDENTIALS_HINT}"
                )
            return ArtifactUnavailable(f"the S3 store failed to {doing} in {bucket} ({code or 'error'})")
        return ArtifactUnavailable(f"the S3 store failed to {doing} in {bucket} ({type(error).__name__})")

    def check(self) -> None:
        """Raise ArtifactUnavailable unless the bucket is there and our credentials are accepted."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NotFound", *MISSING_BUCKET}:  # HEAD answers carry no error body
                raise ArtifactUnavailable(
                    f"the bucket {self.bucket!r} at {self.where} does not exist: "
                    "create it or fix ATELIER_ARTIFACTS__S3__BUCKET"
                ) from None
            raise self._unavailable(error, "check the bucket") from None
        except BotoCoreError as error:
            raise self._unavailable(error, "check the bucket") from None

    def _write(self, key: str, data: bytes, *, kept: bool = False) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._object(key), Body=data, Metadata={"kept": str(kept).lower()}
            )
        except (ClientError, BotoCoreError) as error:
            raise self._unavailable(error, f"store {key}") from None

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
            return bytes(answer["Body"].read())
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in MISSING_KEY:
                raise ArtifactNotFound(key) from None
            raise self._unavailable(error, f"read {key}") from None
        except BotoCoreError as error:
            raise self._unavailable(error, f"read {key}") from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in MISSING_KEY:
                return False
            raise self._unavailable(error, f"look up {key}") from None
        except BotoCoreError as error:
            raise self._unavailable(error, f"look up {key}") from None
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except (ClientError, BotoCoreError) as error:
            raise self._unavailable(error, f"delete {key}") from None
