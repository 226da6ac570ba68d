"""OpenSearch sink: the shared bulk logic, plus AWS SigV4 signing for Amazon OpenSearch Service."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from connector.errors import ConfigError
from connector.sinks.search_bulk import SearchBulkSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_connection import SearchConnection


class OpenSearchSink(SearchBulkSink):
    """Writes ECS documents to OpenSearch data streams; signs requests when ``aws_sigv4`` is on."""

    display_name = "OpenSearch"

    def __init__(
        self,
        config: SearchSinkConfig,
        *,
        session: requests.Session | None = None,
        credentials: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.kind != "opensearch":
            raise ValueError(f"OpenSearchSink needs an opensearch config, got {config.kind!r}")
        super().__init__(config, opensearch_connection(config, session, credentials), sleep=sleep)


def opensearch_connection(
    config: SearchSinkConfig, session: requests.Session | None = None, credentials: Any = None
) -> SearchConnection:
    """A connection with basic/bearer auth, or SigV4 from boto3's credential chain."""
    auth = None
    if config.aws_sigv4:
        auth = AwsSigV4Auth(config.aws_region or "", config.aws_service, credentials)
    return SearchConnection(config, session, auth)


class AwsSigV4Auth(requests.auth.AuthBase):
    """Signs each request (body included, after gzip) with the current boto3 credentials.

    Credentials are resolved once through boto3's chain (env, profile, instance/task role); the
    refreshable object they come in renews itself before expiry, so long runs keep signing.
    """

    def __init__(self, region: str, service: str = "es", credentials: Any = None) -> None:
        if credentials is None:
            import boto3

            credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise ConfigError(
                "opensearch.aws_sigv4 is true but boto3 found no AWS credentials"
                " (environment, shared profile or instance/task role)"
            )
        self._credentials = credentials
        self._region = region
        self._service = service

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body if r.body is not None else b""
        if isinstance(body, str):
            body = body.encode()
        frozen = self._credentials.get_frozen_credentials()
        creds = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
        # Sign only what the proxy forwards unchanged; the payload hash is required by aoss.
        headers = {
            k: v
            for k, v in r.headers.items()
            if k.lower() in ("content-type", "content-encoding", "host")
        }
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        aws_request = AWSRequest(method=r.method, url=r.url, data=body, headers=headers)
        SigV4Auth(creds, self._service, self._region).add_auth(aws_request)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "x-amz-content-sha256"):
            value = aws_request.headers.get(name)
            if value is not None:
                r.headers[name] = value
        return r
