"""An S3-compatible bucket (AWS S3, MinIO, Alibaba Cloud OSS, Tencent COS) through boto3.

boto3 is the kept, most used client for this API; it blocks, so the app calls the store from
threads of its own (`storage.files.call`), as it does the folder's fsync. The async wrapper
(aiobotocore) pins botocore to narrow ranges and would be a second client to keep in step,
for little gain at a service lane's rate of a few photos a minute.

Objects are written without an ACL: they stay as private as the bucket, and the app serves
them after its own access checks; it never hands out a public or presigned URL. A PUT is
atomic (a reader sees the whole object or none) and its Content-MD5 makes the store refuse
bytes damaged on the way.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from app.services.storage.files import THREADS, StoredFile, StoreError
from app.settings import Settings

_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
_ELSEWHERE = {"301", "PermanentRedirect", "AuthorizationHeaderMalformed"}
# Written at start-up to prove the credentials may write; not a photo's name, so no listing
# of photos (retention, backup) ever takes it for one.
PROBE_KEY = ".walkaround-write-check"


class S3Store:
    def __init__(self, client: Any, bucket: str, prefix: str = "", probe: Any = None) -> None:
        self.client = client
        # /healthz asks once and briefly: a load balancer waits seconds, not three retries.
        self.probe = probe or client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        def client(**limits: Any) -> Any:
            config = Config(
                s3={"addressing_style": settings.s3_addressing},
                max_pool_connections=THREADS,  # one per store thread
                # boto3 >= 1.36 adds CRC checksums to every upload, which OSS, COS and older
                # MinIO refuse; Content-MD5 (below) protects the bytes on every one of them.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                **limits,
            )
            return boto3.session.Session().client(
                "s3",
                endpoint_url=settings.s3_endpoint_url or None,
                region_name=settings.s3_region or None,
                config=config,
            )

        return cls(
            client(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
            settings.s3_bucket,
            settings.s3_prefix,
            probe=client(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1}),
        )

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, key: str, data: bytes) -> bool:
        digest = hashlib.sha256(data).hexdigest()
        md5 = hashlib.md5(data).digest()  # noqa: S324 - the S3 API's integrity check, not security
        with _faults(key):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            except ClientError as exc:
                if _code(exc) not in _MISSING:
                    raise
            else:
                # Ours carry their SHA-256; one copied in from the folder (aws s3 sync) has
                # its MD5 as ETag when it went up in one part.
                same = head.get("Metadata", {}).get("sha256") == digest
                if same or head.get("ETag", "").strip('"') == md5.hex():
                    return False
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=data,
                ContentMD5=base64.b64encode(md5).decode(),
                ContentType=mimetypes.guess_type(key)[0] or "application/octet-stream",
                Metadata={"sha256": digest},
            )
        return True

    def get(self, key: str) -> bytes:
        with _faults(key):
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return bytes(answer["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            with _faults(key):
                self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        with _faults(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def files(self) -> Iterator[StoredFile]:
        pages = self.client.get_paginator("list_objects_v2")
        with _faults(self.describe()):
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    if key and not key.startswith("."):
                        yield StoredFile(key, int(item["Size"]), item["LastModified"])

    def check(self) -> tuple[bool, str]:
        try:
            self.probe.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            return False, _code(exc)
        except BotoCoreError as exc:
            return False, type(exc).__name__
        return True, "bucket reachable"

    def verify(self) -> None:
        """At start-up: the bucket is there and these credentials may write to it; else a
        StoreError that says what to change."""
        where = self.describe()
        try:
            self.client.head_bucket(Bucket=self.bucket)
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + PROBE_KEY, Body=b"ok")
        except NoCredentialsError:
            raise StoreError(
                f"{where}: no S3 credentials found; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or an instance role)"
            ) from None
        except EndpointConnectionError as exc:
            raise StoreError(f"{where}: cannot reach {exc.kwargs.get('endpoint_url')}") from None
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING or code == "NoSuchBucket":
                why = "the bucket does not exist (create it, private, or fix WALKAROUND_S3_BUCKET)"
            elif code in _DENIED:
                why = ("access denied: the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) "
                       "must be allowed to list, read, write and delete in the bucket")  # fmt: skip
            elif code in _ELSEWHERE:
                why = "the bucket is in another region: set WALKAROUND_S3_REGION to its region"
            else:
                why = f"the store answered {code}"
            raise StoreError(f"{where}: {why}") from None
        except BotoCoreError as exc:
            raise StoreError(f"{where}: {exc}") from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or "error"


@contextmanager
def _faults(key: str) -> Iterator[None]:
    """The store's failures as the OSErrors the folder would raise."""
    try:
        yield
    except ClientError as exc:
        if _code(exc) in _MISSING:
            raise FileNotFoundError(key) from exc
        raise StoreError(f"S3 refused {key}: {_code(exc)}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"S3 unreachable for {key}: {exc}") from exc
