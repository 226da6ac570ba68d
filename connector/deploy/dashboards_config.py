"""Settings of Kibana and OpenSearch Dashboards: address, space or tenant, credentials, TLS.

Read from the configuration's ``kibana:`` / ``opensearch_dashboards:`` section and the command
line, with URL and credentials falling back to the environment (``KIBANA_*``; for OpenSearch
Dashboards the ``OPENSEARCH_*`` credentials the OpenSearch sink uses).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.sinks.search_config import setting_bool, setting_seconds

# Kibana's rule for a space identifier.
_SPACE_RE = re.compile(r"^[a-z0-9_-]{1,100}$")


@dataclass(frozen=True)
class DashboardsProduct:
    """What differs between Kibana and OpenSearch Dashboards for the installer."""

    name: str  # as the deploy target and messages say it
    section: str  # configuration section
    url_variable: str
    credential_prefix: str  # <PREFIX>_USERNAME, _PASSWORD, _BEARER_TOKEN (and KIBANA_API_KEY)
    xsrf_header: str
    scope: str  # "space" (Kibana) or "tenant" (OpenSearch security)
    api_keys: bool


KIBANA = DashboardsProduct("kibana", "kibana", "KIBANA_URL", "KIBANA", "kbn-xsrf", "space", True)
OPENSEARCH_DASHBOARDS = DashboardsProduct(
    "opensearch-dashboards", "opensearch_dashboards", "OPENSEARCH_DASHBOARDS_URL", "OPENSEARCH", "osd-xsrf",
    "tenant", False,
)


@dataclass(frozen=True)
class DashboardsConfig:
    """Validated settings of one Kibana or OpenSearch Dashboards; secrets stay out of ``repr``."""

    product: DashboardsProduct
    url: str
    space: str | None = None
    tenant: str | None = None
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    verify_tls: bool = True
    ca_certs: str | None = None
    timeout_seconds: float = 120.0

    @classmethod
    def from_settings(
        cls, product: DashboardsProduct, settings: Mapping[str, Any], env: Mapping[str, str]
    ) -> DashboardsConfig:
        """Build from the section's settings (the command line already merged in); the URL and the
        credentials that are absent come from the environment."""
        where = product.section
        known = {"url", product.scope, "username", "password", "bearer_token", "verify_tls", "ca_certs",
                 "timeout_seconds"} | ({"api_key"} if product.api_keys else set())
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")

        def pick(key: str, variable: str | None) -> str | None:
            value = settings.get(key)
            if value in (None, "") and variable:
                value = env.get(variable) or None
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{where}.{key} must be a string")
            return value

        prefix = product.credential_prefix
        url = pick("url", product.url_variable)
        if not url:
            raise ConfigError(f"{where}.url is required (--{'kibana' if product is KIBANA else 'dashboards'}-url"
                              f" or {product.url_variable})")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url must start with http:// or https://, got {url!r}")
        config = cls(
            product=product,
            url=url.rstrip("/"),
            space=pick("space", None) if product.scope == "space" else None,
            tenant=pick("tenant", None) if product.scope == "tenant" else None,
            api_key=pick("api_key", f"{prefix}_API_KEY") if product.api_keys else None,
            username=pick("username", f"{prefix}_USERNAME"),
            password=pick("password", f"{prefix}_PASSWORD"),
            bearer_token=pick("bearer_token", f"{prefix}_BEARER_TOKEN"),
            verify_tls=setting_bool(where, "verify_tls", settings.get("verify_tls", True)),
            ca_certs=pick("ca_certs", None),
            timeout_seconds=setting_seconds(where, "timeout_seconds", settings.get("timeout_seconds", 120.0)),
        )
        config._validate()
        return config

    def _validate(self) -> None:
        where = self.product.section
        if self.space is not None and not _SPACE_RE.match(self.space):
            raise ConfigError(f"{where}.space {self.space!r} is not a space identifier"
                              " (lowercase letters, digits, '_' and '-')")
        if (self.username is None) != (self.password is None):
            raise ConfigError(f"{where}.username and {where}.password must be set together")
        methods = [name for name, on in (("api_key", self.api_key is not None),
                                         ("username/password", self.username is not None),
                                         ("bearer_token", self.bearer_token is not None)) if on]
        if len(methods) > 1:
            raise ConfigError(f"{where}: choose one authentication method, got {' and '.join(methods)}")
        if self.ca_certs is not None and not self.verify_tls:
            raise ConfigError(f"{where}.ca_certs is set but verify_tls is false; drop one of them")

    @property
    def where(self) -> str:
        """``kibana at https://kibana:5601 (space security)``, for messages."""
        scope = self.space or self.tenant
        return f"{self.product.name} at {self.url}" + (f" ({self.product.scope} {scope})" if scope else "")

