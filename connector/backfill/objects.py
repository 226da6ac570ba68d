"""Planned S3 objects as pipeline work units: each reads exactly the listed version, and a failed read
is recorded so that the object is reported failed and left out of the checkpoint."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from connector.backfill.plan import PlannedObject
from connector.sources.base import WorkUnit
from connector.sources.s3 import aws_client, aws_session


def s3_client(aws: Mapping[str, Any]) -> Any:
    """An S3 client for the ``aws`` settings (region, endpoint, role)."""
    return aws_client(aws_session(aws), "s3", aws)


class _GuardedBody:
    """An S3 body whose network errors surface as ``OSError`` (which the pipeline dead-letters)."""

    def __init__(self, body: Any, key: str, failures: set[str]) -> None:
        self._body = body
        self._key = key
        self._failures = failures

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self._body.read(None if n < 0 else n)
            return data
        except (BotoCoreError, ClientError, OSError, ValueError) as exc:
            self._failures.add(self._key)
            raise OSError(f"reading s3 object failed: {exc}") from exc
        except Exception as exc:
            # urllib3 protocol errors (a dropped connection mid-body) are not OSErrors.
            if type(exc).__module__.startswith(("urllib3", "http.client")):
                self._failures.add(self._key)
                raise OSError(f"reading s3 object failed: {exc}") from exc
            raise

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._body.close()


def s3_work_unit(client: Any, bucket: str, obj: PlannedObject, failures: set[str]) -> WorkUnit:
    """A work unit reading exactly the listed version (If-Match on the ETag) of one object."""

    def open_object() -> IO[bytes]:
        try:
            response = client.get_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
        except (ClientError, BotoCoreError) as exc:
            failures.add(obj.key)
            raise OSError(f"cannot get s3://{bucket}/{obj.key}: {exc}") from exc
        body = _GuardedBody(response["Body"], obj.key, failures)
        if obj.key.endswith(".parquet"):
            # Parquet is read by random access, which a streaming body cannot give.
            return io.BytesIO(body.read())
        return body  # type: ignore[return-value]

    return WorkUnit(origin=f"s3://{bucket}/{obj.key}", key=obj.key, open=open_object, size=obj.size,
                    type_hint=obj.kind, etag=obj.etag)
