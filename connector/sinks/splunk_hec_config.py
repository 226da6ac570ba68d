"""Settings of the Splunk HEC sink: every option typed and checked once at start.

A bad value fails the run before any data moves, with an error that names the key.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from connector.errors import ConfigError
from connector.sinks.base import DATASETS

Mode = Literal["ecs", "splunk_ta_aws"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class HecSinkConfig:
    """Every HEC sink option, validated once at start; the token is kept out of ``repr``."""

    hec_url: str
    token: str = field(repr=False)
    mode: Mode = "ecs"
    indexes: Mapping[str, str] = field(default_factory=dict)
    default_index: str | None = None
    host: str = field(default_factory=socket.gethostname)
    batch_events: int = 5000
    batch_bytes: int = 900_000
    flush_interval: float = 1.0
    ack: bool = False
    ack_timeout: float = 60.0
    ack_poll_interval: float = 1.0
    concurrency: int = 4
    verify_tls: bool = True
    ca_bundle: str | None = None
    indexed_fields: tuple[str, ...] = ()
    max_retries: int = 8
    retry_max_seconds: float = 120.0
    retry_backoff: float = 0.5
    request_timeout: float = 30.0
    gzip: bool = True
    compression_level: int = 1

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], env: Mapping[str, str]) -> HecSinkConfig:
        """Build from the ``splunk_hec`` config section; ``SPLUNK_HEC_TOKEN`` fills a missing token."""
        known = {f for f in cls.__dataclass_fields__} | {"type"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f"splunk_hec: unknown option(s) {', '.join(unknown)}")
        s = _SettingsReader(settings)
        url = s.text("hec_url", required=True)
        assert url is not None
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"splunk_hec.hec_url must start with http:// or https://, got {url!r}")
        url = url.rstrip("/")
        for suffix in ("/services/collector/event", "/services/collector"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        token = s.text("token") or env.get("SPLUNK_HEC_TOKEN") or ""
        if not token.strip():
            raise ConfigError(
                "splunk_hec.token is missing: set it in the config file or in SPLUNK_HEC_TOKEN"
            )
        mode = s.text("mode") or "ecs"
        if mode not in ("ecs", "splunk_ta_aws"):
            raise ConfigError(f"splunk_hec.mode must be 'ecs' or 'splunk_ta_aws', got {mode!r}")
        ca_bundle = s.text("ca_bundle")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ConfigError(f"splunk_hec.ca_bundle: no such file {ca_bundle!r}")
        return cls(
            hec_url=url,
            token=token.strip(),
            mode="ecs" if mode == "ecs" else "splunk_ta_aws",
            indexes=s.indexes("indexes"),
            default_index=s.index_name("default_index"),
            host=s.text("host") or socket.gethostname(),
            batch_events=s.integer("batch_events", 5000, low=1),
            batch_bytes=s.integer("batch_bytes", 900_000, low=1024),
            flush_interval=s.number("flush_interval", 1.0, low=0.01),
            ack=s.boolean("ack", False),
            ack_timeout=s.number("ack_timeout", 60.0, low=0.01),
            ack_poll_interval=s.number("ack_poll_interval", 1.0, low=0.001),
            concurrency=s.integer("concurrency", 4, low=1, high=64),
            verify_tls=s.boolean("verify_tls", True),
            ca_bundle=ca_bundle,
            indexed_fields=s.names("indexed_fields"),
            max_retries=s.integer("max_retries", 8, low=0),
            retry_max_seconds=s.number("retry_max_seconds", 120.0, low=0.0),
            retry_backoff=s.number("retry_backoff", 0.5, low=0.0),
            request_timeout=s.number("request_timeout", 30.0, low=0.1),
            gzip=s.boolean("gzip", True),
            compression_level=s.integer("compression_level", 1, low=1, high=9),
        )


class _SettingsReader:
    """Typed reads of one settings mapping, each error naming the key."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._s = settings

    def _bad(self, key: str, want: str, value: Any) -> ConfigError:
        return ConfigError(f"splunk_hec.{key} must be {want}, got {value!r}")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self._s.get(key)
        if value is None or value == "":
            if required:
                raise ConfigError(f"splunk_hec.{key} is required")
            return None
        if not isinstance(value, str):
            # Never echo the value: this key may be the token.
            raise ConfigError(f"splunk_hec.{key} must be a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._s.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self._bad(key, "true or false", value)

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self._s.get(key, default)
        try:
            if isinstance(value, bool | float):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise self._bad(key, "an integer", value) from None
        if number < low or (high is not None and number > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise self._bad(key, f"an integer {span}", value)
        return number

    def number(self, key: str, default: float, low: float) -> float:
        value = self._s.get(key, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise self._bad(key, "a number of seconds", value) from None
        if number < low or number != number:
            raise self._bad(key, f"a number >= {low}", value)
        return number

    def index_name(self, key: str, value: Any = None) -> str | None:
        value = self._s.get(key) if value is None else value
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value.strip() != value or not value:
            raise self._bad(key, "an index name", value)
        return value

    def indexes(self, key: str) -> Mapping[str, str]:
        value = self._s.get(key) or {}
        if not isinstance(value, Mapping):
            raise self._bad(key, "a map of dataset to index", value)
        result: dict[str, str] = {}
        for dataset, index in value.items():
            if dataset not in DATASETS:
                raise ConfigError(
                    f"splunk_hec.{key}: unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}"
                )
            name = self.index_name(f"{key}.{dataset}", index)
            if name is not None:
                result[dataset] = name
        return result

    def names(self, key: str) -> tuple[str, ...]:
        value = self._s.get(key) or ()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
            raise self._bad(key, "a list of field names", value)
        return tuple(value)


__all__ = ["HecSinkConfig", "Mode"]
