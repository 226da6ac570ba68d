"""Settings of the Elasticsearch and OpenSearch sinks: typed, checked once, secrets from the environment.

Also names where each dataset goes (data stream or plain index), which the sink and the template
deploy both need.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.sinks.base import DATASETS as EVENT_DATASETS

KINDS = ("elasticsearch", "opensearch")
DATASETS = tuple(d.removeprefix("aws.") for d in EVENT_DATASETS)  # the data stream names' middle part
# Elasticsearch's rules for a data stream namespace (lowercase, no '-', none of \/*?"<>|,# :).
_NAMESPACE_RE = re.compile(r'^[a-z0-9_][^A-Z\-\\/*?"<>|,# :]{0,99}$')
_INDEX_PREFIX_RE = re.compile(r'^[a-z0-9][^A-Z\\/*?"<>|,# :]{0,99}$')
_ENV_PREFIX = {"elasticsearch": "ES", "opensearch": "OPENSEARCH"}


@dataclass(frozen=True)
class SearchSinkConfig:
    """Validated settings of an Elasticsearch or OpenSearch sink; secrets stay out of ``repr``."""

    kind: str
    url: str
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    aws_sigv4: bool = False
    aws_region: str | None = None
    aws_service: str = "es"
    verify_tls: bool = True
    ca_certs: str | None = None
    namespace: str = "default"
    data_streams: bool = True
    index_prefix: str = "aws_connector"
    bulk_docs: int = 5000
    bulk_bytes: int = 10 * 1024 * 1024
    # gzip level of request bodies, 0 sends them uncompressed (Beats' compression_level, same default).
    compression_level: int = 1
    concurrency: int = 4
    max_retries: int = 8
    retry_max_seconds: float = 30.0
    timeout_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], env: Mapping[str, str], kind: str) -> SearchSinkConfig:
        """Build from config-file/CLI settings; credentials and URL fall back to the environment.

        A value present in ``settings`` wins; ``ES_*`` (Elasticsearch) or ``OPENSEARCH_*``
        (OpenSearch) variables fill what is missing: ``_URL``, ``_API_KEY``, ``_USERNAME``,
        ``_PASSWORD``, ``_BEARER_TOKEN`` (``ES_API_KEY`` only: OpenSearch has no API keys here).
        """
        if kind not in KINDS:
            raise ConfigError(f"sink kind must be one of {', '.join(KINDS)}, not {kind!r}")
        prefix = _ENV_PREFIX[kind]
        known = {f.name for f in cls.__dataclass_fields__.values()} - {"kind"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f"{kind}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")

        def pick(key: str, env_name: str | None = None) -> Any:
            value = settings.get(key)
            if value in (None, "") and env_name is not None:
                value = env.get(f"{prefix}_{env_name}") or None
            return value

        url = pick("url", "URL")
        if not url or not isinstance(url, str):
            raise ConfigError(f"{kind}.url is required (or set {prefix}_URL)")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{kind}.url must start with http:// or https://, got {url!r}")
        values: dict[str, Any] = {
            "kind": kind,
            "url": url.rstrip("/"),
            "api_key": pick("api_key", "API_KEY" if kind == "elasticsearch" else None),
            "username": pick("username", "USERNAME"),
            "password": pick("password", "PASSWORD"),
            "bearer_token": pick("bearer_token", "BEARER_TOKEN"),
        }
        for key in ("aws_sigv4", "verify_tls", "data_streams"):
            if key in settings:
                values[key] = setting_bool(kind, key, settings[key])
        for key in ("aws_region", "aws_service", "ca_certs", "namespace", "index_prefix"):
            if settings.get(key) is not None:
                if not isinstance(settings[key], str) or not settings[key]:
                    raise ConfigError(f"{kind}.{key} must be a non-empty string, got {settings[key]!r}")
                values[key] = settings[key]
        for key, low in (("bulk_docs", 1), ("bulk_bytes", 1024), ("concurrency", 1), ("max_retries", 0),
                         ("compression_level", 0)):
            if key in settings:
                values[key] = _as_int(kind, key, settings[key], low)
        for key in ("retry_max_seconds", "timeout_seconds"):
            if key in settings:
                values[key] = setting_seconds(kind, key, settings[key])
        config = cls(**values)
        config._validate()
        return config

    def _validate(self) -> None:
        kind = self.kind
        if not _NAMESPACE_RE.match(self.namespace):
            raise ConfigError(
                f"{kind}.namespace {self.namespace!r} is not a valid data stream namespace"
                " (lowercase, no '-', none of \\/*?\"<>|,# :, at most 100 characters)"
            )
        if not _INDEX_PREFIX_RE.match(self.index_prefix):
            raise ConfigError(f"{kind}.index_prefix {self.index_prefix!r} is not a valid lowercase index name")
        if self.compression_level > 9:
            raise ConfigError(f"{kind}.compression_level must be 0 (off) to 9, got {self.compression_level}")
        if (self.username is None) != (self.password is None):
            raise ConfigError(f"{kind}.username and {kind}.password must be set together")
        methods = [
            name
            for name, on in (
                ("api_key", self.api_key is not None),
                ("username/password", self.username is not None),
                ("bearer_token", self.bearer_token is not None),
                ("aws_sigv4", self.aws_sigv4),
            )
            if on
        ]
        if len(methods) > 1:
            raise ConfigError(f"{kind}: choose one authentication method, got {' and '.join(methods)}")
        if self.aws_sigv4 and kind != "opensearch":
            raise ConfigError(f"{kind}.aws_sigv4 applies to Amazon OpenSearch Service; use the opensearch sink")
        if self.aws_sigv4 and not self.aws_region:
            raise ConfigError(f"{kind}.aws_region is required when aws_sigv4 is true")
        if self.aws_service not in ("es", "aoss"):
            raise ConfigError(f"{kind}.aws_service must be 'es' (managed domain) or 'aoss' (serverless)")
        if self.api_key is not None and kind == "opensearch":
            raise ConfigError("opensearch.api_key is not supported; use username/password, bearer_token or aws_sigv4")
        if self.ca_certs is not None and not self.verify_tls:
            raise ConfigError(f"{kind}.ca_certs is set but verify_tls is false; drop one of them")

    def index_for(self, dataset: str) -> str | None:
        """The data stream (or plain index) that receives ``dataset``; None for an unknown one."""
        short = dataset[4:] if dataset.startswith("aws.") else dataset
        if short not in DATASETS:
            return None
        if self.data_streams:
            return f"logs-aws_connector.{short}-{self.namespace}"
        return f"{self.index_prefix}.{short}-{self.namespace}"


def setting_bool(kind: str, key: str, value: Any) -> bool:
    """``value`` of setting ``kind.key`` as a bool (true/false, yes/no, 1/0), or a ``ConfigError``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    raise ConfigError(f"{kind}.{key} must be true or false, got {value!r}")


def _as_int(kind: str, key: str, value: Any, low: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind}.{key} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number < low:
        raise ConfigError(f"{kind}.{key} must be an integer >= {low}, got {value!r}")
    return number


def setting_seconds(kind: str, key: str, value: Any) -> float:
    """``value`` of setting ``kind.key`` as a positive number, or a ``ConfigError``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind}.{key} must be a number, got {value!r}") from None
    if number <= 0 or isinstance(value, bool):
        raise ConfigError(f"{kind}.{key} must be a positive number, got {value!r}")
    return number
