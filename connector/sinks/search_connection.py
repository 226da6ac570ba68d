"""One Elasticsearch or OpenSearch cluster over HTTP: base URL, authentication, TLS, and the start-up check.

The bulk sink and the template deploy both talk to the cluster through it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter

from connector.errors import FatalSinkError, SinkError
from connector.sinks.search_config import SearchSinkConfig


class SearchConnection:
    """Base URL, auth and TLS of one cluster over a ``requests`` session; shared by sink and deploy."""

    def __init__(
        self,
        config: SearchSinkConfig,
        session: requests.Session | None = None,
        auth: requests.auth.AuthBase | None = None,
    ) -> None:
        self.config = config
        self.url = config.url
        self.auth = auth
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(4, config.concurrency * 2))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self.verify: bool | str = config.ca_certs if config.ca_certs else config.verify_tls
        self.headers = {"Accept": "application/json", **_auth_headers(config)}

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> requests.Response:
        """One HTTP call; transport failures become ``SinkError`` with the URL but no secret."""
        all_headers = dict(self.headers)
        if json_body is not None:
            data = orjson.dumps(json_body)
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        return send_request(
            self.session,
            self.config.kind,
            self.url,
            method,
            path,
            data=data,
            headers=all_headers,
            auth=self.auth,
            verify=self.verify,
            timeout=timeout or self.config.timeout_seconds,
        )

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()


def send_request(
    session: requests.Session, kind: str, base_url: str, method: str, path: str, **options: Any
) -> requests.Response:
    """``session.request`` on ``base_url + path``; transport failures become ``SinkError`` naming
    ``kind`` and the URL, never a header (so no secret)."""
    try:
        return session.request(method, f"{base_url}{path}", **options)
    except requests.exceptions.SSLError as exc:
        raise FatalSinkError(
            f"{kind} at {base_url}: TLS verification failed ({_short(exc)}); set ca_certs to the server's CA bundle"
        ) from None
    except requests.RequestException as exc:
        raise SinkError(f"{kind} at {base_url} unreachable: {_short(exc)}") from None


def authorization_headers(
    api_key: str | None, username: str | None, password: str | None, bearer_token: str | None
) -> dict[str, str]:
    """The ``Authorization`` header of the one credential given: ``ApiKey``, ``Basic`` or ``Bearer``."""
    if api_key:
        key = api_key
        # Accept both Kibana's "encoded" form and the raw "id:api_key" pair.
        if ":" in key:
            key = base64.b64encode(key.encode()).decode()
        return {"Authorization": f"ApiKey {key}"}
    if username is not None and password is not None:
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    if bearer_token:
        return {"Authorization": f"Bearer {bearer_token}"}
    return {}


def _auth_headers(config: SearchSinkConfig) -> dict[str, str]:
    return authorization_headers(config.api_key, config.username, config.password, config.bearer_token)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


def error_reason_text(resp: requests.Response) -> str:
    """The cluster's ``error`` type and reason from an error answer, or the start of its body."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return resp.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error or body)[:300]


def check_answer(connection: SearchConnection, resp: requests.Response, doing: str) -> None:
    """Nothing for a 2xx answer; else a ``SinkError`` (``FatalSinkError`` for 401/403) saying what
    could not be done and the cluster's reason (and its cause)."""
    if resp.status_code < 300:
        return
    kind = connection.config.kind
    try:
        error = orjson.loads(resp.content).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = resp.text[:300]
    if isinstance(error, dict):
        cause = error.get("caused_by") or {}
        error = f"{error.get('type')}: {error.get('reason')}" + (
            f" (caused by {cause.get('type')}: {cause.get('reason')})" if cause else ""
        )
    cls = FatalSinkError if resp.status_code in (401, 403) else SinkError
    raise cls(f"{kind} at {connection.url}: could not {doing} (HTTP {resp.status_code}): {error}")


def check_connection(connection: SearchConnection) -> str:
    """Describe the cluster (distribution and version) or raise a ``SinkError`` that says why not."""
    kind = connection.config.kind
    resp = connection.request("GET", "/")
    if resp.status_code == 401:
        raise FatalSinkError(f"{kind} at {connection.url} refused the credentials (HTTP 401)")
    if resp.status_code == 200:
        info = orjson.loads(resp.content)
        version = info.get("version", {})
        distribution = version.get("distribution", "elasticsearch")
        if distribution != kind:
            raise FatalSinkError(f"{connection.url} is {distribution}, not {kind}; use the {distribution} sink")
        return f"{distribution} {version.get('number', '?')} at {connection.url}"
    # Minimal builds have no root endpoint, and a writer-only role may not read it.
    health = connection.request("GET", "/_cluster/health")
    if health.status_code == 200:
        return f"{kind} at {connection.url} (cluster {orjson.loads(health.content).get('status')})"
    if health.status_code in (401, 403) and resp.status_code == 403:
        return f"{kind} at {connection.url} (authenticated; no monitor privilege)"
    raise SinkError(f"{kind} at {connection.url} answered HTTP {resp.status_code}: {error_reason_text(resp)}")
