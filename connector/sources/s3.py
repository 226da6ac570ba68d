"""S3 objects as work units, streamed through boto3, and the AWS session every S3/SQS reader uses.

Read errors are split in two: an object that does not exist raises ``FileNotFoundError`` (an
``OSError``), which the pipeline dead-letters because a retry cannot succeed; anything that may
succeed later (throttling after retries, 5xx, a dropped connection, access denied until IAM is
fixed) raises ``SourceError``, which leaves the unit unacknowledged so that it is retried.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from connector.errors import ConfigError, SourceError
from connector.sources.base import WorkUnit

AWS_KEYS = frozenset({"region", "endpoint_url", "role_arn", "external_id", "role_session_name"})
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})
ROLE_SESSION_NAME = "aws-siem-connector"
ROLE_DURATION_SECONDS = 3600
# Adaptive-free standard retries: throttling and 5xx are retried with backoff before we give up.
CLIENT_CONFIG = BotoConfig(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                           max_pool_connections=32)


def check_aws_settings(settings: Mapping[str, Any], where: str = "<configuration>") -> None:
    """Refuse unknown keys in the ``aws`` section, naming them and the file."""
    unknown = sorted(set(settings) - AWS_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join('aws.' + k for k in unknown)}; "
                          f"known: {', '.join(sorted(AWS_KEYS))}")
    if settings.get("external_id") and not settings.get("role_arn"):
        raise ConfigError(f"{where}: aws.external_id needs aws.role_arn")


def aws_session(settings: Mapping[str, Any]) -> boto3.Session:
    """A boto3 session from the ``aws`` section: default credential chain, or an assumed role.

    With ``role_arn`` (and optional ``external_id``) the session's credentials come from STS and
    are refreshed before they expire, so a service that runs for days keeps working.
    """
    check_aws_settings(settings)
    region = settings.get("region") or None
    base = boto3.Session(region_name=region)
    role_arn = settings.get("role_arn")
    if not role_arn:
        return base
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    sts = base.client("sts", endpoint_url=settings.get("endpoint_url") or None, config=CLIENT_CONFIG)
    params: dict[str, Any] = {"RoleArn": str(role_arn), "DurationSeconds": ROLE_DURATION_SECONDS,
                              "RoleSessionName": str(settings.get("role_session_name") or ROLE_SESSION_NAME)}
    if settings.get("external_id"):
        params["ExternalId"] = str(settings["external_id"])

    def refresh() -> dict[str, str]:
        try:
            creds = sts.assume_role(**params)["Credentials"]
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"cannot assume role {role_arn}: {exc}") from exc
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=refresh(), refresh_using=refresh, method="sts-assume-role")
    core = get_session()
    # botocore has no public setter for ready-made refreshing credentials.
    core._credentials = credentials  # type: ignore[attr-defined]
    if region:
        core.set_config_variable("region", region)
    return boto3.Session(botocore_session=core)


def aws_client(session: boto3.Session, service: str, settings: Mapping[str, Any]) -> Any:
    """A client for ``service``; ``aws.endpoint_url`` wins, else botocore reads ``AWS_ENDPOINT_URL``."""
    return session.client(service, endpoint_url=settings.get("endpoint_url") or None,  # type: ignore[call-overload]
                          config=CLIENT_CONFIG)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _read_failure(where: str, exc: BaseException) -> BaseException:
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        if code in MISSING_CODES:
            return FileNotFoundError(f"{where}: {code} (the object no longer exists; a retry cannot succeed)")
        return SourceError(f"{where}: {code or 'error'}: {exc} (left for a retry)")
    return SourceError(f"{where}: {type(exc).__name__}: {exc} (left for a retry)")


class S3Body(io.RawIOBase):
    """The streaming body of one ``GetObject``, read in pieces; transient failures become ``SourceError``."""

    def __init__(self, body: Any, where: str) -> None:
        super().__init__()
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            return bytes(self._body.read(None if size is None or size < 0 else size))
        except (BotoCoreError, ClientError, OSError, ValueError) as exc:
            raise _read_failure(self._where, exc) from exc
        except Exception as exc:  # urllib3 protocol errors are not OSErrors
            if type(exc).__module__.startswith(("urllib3", "http.client")):
                raise _read_failure(self._where, exc) from exc
            raise

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._body.close()
            finally:
                super().close()


def open_object(client: Any, bucket: str, key: str) -> IO[bytes]:
    """Start streaming ``s3://bucket/key``; the body is read in pieces, never held whole."""
    where = f"s3://{bucket}/{key}"
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as exc:
        raise _read_failure(where, exc) from exc
    return S3Body(response["Body"], where)  # type: ignore[return-value]


def s3_unit(client: Any, bucket: str, key: str, size: int | None = None, etag: str | None = None,
            type_hint: str | None = None) -> WorkUnit:
    """One S3 object as a work unit; ``open()`` streams it (a new ``GetObject`` each time)."""

    def opener() -> IO[bytes]:
        return open_object(client, bucket, key)

    return WorkUnit(origin=f"s3://{bucket}/{key}", key=key, open=opener, size=size, type_hint=type_hint,
                    etag=etag)


class S3OversizedFetcher:
    """Fetches an AWS Config oversized item's full notification from ``bucket/key``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __call__(self, location: str) -> bytes:
        bucket, _, key = location.partition("/")
        if not bucket or not key:
            raise ValueError(f"not a bucket/key location: {location!r}")
        # A missing object raises FileNotFoundError (dead-lettered by ConfigReader); a transient
        # failure raises SourceError, which leaves the message for a retry.
        with open_object(self._client, bucket, key) as body:
            return body.read()
