"""Kibana or OpenSearch Dashboards over HTTP: base URL (with the Kibana space), credentials, the
anti-CSRF header, the OpenSearch security tenant, TLS, and refusals turned into one clear line."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import orjson
import requests

from connector.deploy.dashboards_config import DashboardsConfig
from connector.errors import FatalSinkError, SinkError
from connector.sinks.search_connection import authorization_headers, send_request


class DashboardsConnection:
    """Requests to one Kibana or OpenSearch Dashboards; ``answer`` reads a reply or raises."""

    def __init__(self, config: DashboardsConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.verify: bool | str = config.ca_certs if config.ca_certs else config.verify_tls
        # Kibana's space-scoped APIs live under /s/<space>; the default space has no prefix.
        self.base = config.url + (f"/s/{config.space}" if config.space else "")
        self.headers = {
            "Accept": "application/json",
            config.product.xsrf_header: "true",
            **authorization_headers(config.api_key, config.username, config.password, config.bearer_token),
        }
        if config.tenant:
            self.headers["securitytenant"] = config.tenant

    def __enter__(self) -> DashboardsConnection:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._owns_session:
            self.session.close()

    def request(self, method: str, path: str, *, in_space: bool = True, **options: Any) -> requests.Response:
        """One call to ``path`` (under the space unless ``in_space`` is false); ``options`` go to requests."""
        return send_request(
            self.session, self.config.product.name, self.base if in_space else self.config.url, method, path,
            headers=self.headers, verify=self.verify, timeout=self.config.timeout_seconds, **options,
        )

    def answer(self, resp: requests.Response, doing: str) -> Any:
        """The JSON of a 2xx reply; otherwise an error that says what was refused, by whom, and why."""
        if resp.status_code < 300:
            try:
                return orjson.loads(resp.content)
            except orjson.JSONDecodeError:
                raise SinkError(f"{self.config.where}: could not {doing}: the reply is not JSON"
                                f" (HTTP {resp.status_code}: {_reason(resp)})") from None
        where, status, reason = self.config.where, resp.status_code, _reason(resp)
        if status == 401:
            raise FatalSinkError(f"{where} refused the credentials (HTTP 401): {reason}")
        if status == 403:
            raise FatalSinkError(f"{where}: not allowed to {doing} (HTTP 403): {reason}")
        if status == 404:
            raise FatalSinkError(f"{where}: could not {doing}: {resp.request.method} {resp.request.path_url}"
                                 f" answered 404 ({reason}); is {self.config.url} the {self.config.product.name}"
                                 " URL?")
        raise SinkError(f"{where}: could not {doing} (HTTP {status}): {reason}")

    def check_space(self) -> None:
        """With a Kibana space chosen, make sure it exists: Kibana would otherwise write into a space
        nobody can open."""
        space = self.config.space
        if not space:
            return
        path = f"/api/spaces/space/{space}"
        resp = self.request("GET", path, in_space=False)
        if resp.status_code == 404:
            raise FatalSinkError(f"{self.config.where}: space {space!r} does not exist (GET {path} answered 404);"
                                 " create it or leave out --space")
        self.answer(resp, f"read space {space}")


def _reason(resp: requests.Response) -> str:
    """The product's message (Kibana: ``message``; Elasticsearch-style: ``error.reason``), on one line."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    text: Any = resp.text
    if isinstance(body, dict):
        error = body.get("error")
        text = body.get("message") or (error.get("reason") if isinstance(error, dict) else error) or body
    line = " ".join(str(text).split())
    return line if len(line) <= 300 else line[:300] + "..."
