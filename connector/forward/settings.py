"""The service's settings, read once at start: the ``forward`` config section overridden by the flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError

FORWARD_KEYS = frozenset({"queue_urls", "max_in_flight", "workers", "visibility_timeout", "wait_time_seconds",
                          "drain_seconds", "metrics_port", "metrics_host"})


@dataclass(frozen=True, slots=True)
class ForwardSettings:
    """The service's knobs: ``forward`` config section, overridden by the command line."""

    queue_urls: tuple[str, ...]
    max_in_flight: int = 4
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    visibility_timeout: int = 300
    wait_time_seconds: int = 20
    drain_seconds: float = 25.0
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    max_messages: int | None = None
    idle_exit: float | None = None

    @classmethod
    def from_sources(cls, section: Mapping[str, Any], args: argparse.Namespace, where: str) -> ForwardSettings:
        """Merge the ``forward`` section with the flags; every error names the key and the file."""
        unknown = sorted(set(section) - FORWARD_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join('forward.' + k for k in unknown)}; "
                              f"known: {', '.join(sorted(FORWARD_KEYS))}")

        def pick(flag: str, key: str, kind: Callable[[Any], Any], default: Any, low: float | None = None) -> Any:
            value = getattr(args, flag, None)
            if value is None:
                value = section.get(key, default)
            if value is None:
                return None
            try:
                value = kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: forward.{key} must be a {kind.__name__}, got {value!r}") from None
            if low is not None and value < low:
                raise ConfigError(f"{where}: forward.{key} must be at least {low}, got {value!r}")
            return value

        urls = list(getattr(args, "queue_url", None) or [])
        if not urls:
            configured = section.get("queue_urls") or []
            urls = [u.strip() for u in configured.split(",")] if isinstance(configured, str) else list(configured)
        urls = [str(u) for u in urls if u]
        if not urls:
            raise ConfigError(f"{where}: no queue: pass --queue-url URL or set forward.queue_urls")
        visibility = pick("visibility_timeout", "visibility_timeout", int, 300, 1)
        if visibility > 43200:
            raise ConfigError(f"{where}: forward.visibility_timeout is at most 43200 seconds (SQS limit)")
        return cls(
            queue_urls=tuple(dict.fromkeys(urls)),
            max_in_flight=pick("max_in_flight", "max_in_flight", int, 4, 1),
            workers=pick("workers", "workers", int, os.cpu_count() or 1, 1),
            visibility_timeout=visibility,
            wait_time_seconds=min(20, pick("wait_time_seconds", "wait_time_seconds", int, 20, 0)),
            drain_seconds=pick("drain_seconds", "drain_seconds", float, 25.0, 0),
            metrics_port=pick("metrics_port", "metrics_port", int, None, 0),
            metrics_host=str(section.get("metrics_host") or "0.0.0.0"),
            max_messages=pick("max_messages", "max_messages", int, None, 1),
            idle_exit=pick("idle_exit", "idle_exit", float, None, 0),
        )
