"""The ``threat_intel`` configuration section: which feeds to read, in which format, how often
to look for a newer copy. Validated at load so that a typo stops the start, naming the feed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connector.errors import ConfigError

FORMATS = ("auto", "plain", "csv", "stix2", "misp")
DEFAULT_SEVERITY = 73  # Elastic Security's "high"; dashboards filter on event.severity


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """One indicator feed: a local path or ``s3://bucket/key``."""

    name: str
    path: str
    format: str = "auto"
    column: str | None = None  # CSV: the indicator column (found by name when absent)
    severity: int = DEFAULT_SEVERITY


@dataclass(frozen=True, slots=True)
class ThreatIntelSettings:
    """All feeds; ``refresh_minutes`` applies to ``forward`` and Lambda (0: never reload)."""

    feeds: tuple[FeedSettings, ...] = ()
    refresh_minutes: float = 60.0


def threat_intel_settings(raw: Mapping[str, Any], where: str, base: Path | None = None) -> ThreatIntelSettings:
    """Validate the raw section; every error names the feed and the key. A relative feed path is
    read from ``base`` (the configuration file's folder), so a config and its feeds move together."""
    unknown = sorted(set(raw) - {"feeds", "refresh_minutes"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join('threat_intel.' + k for k in unknown)}; "
                          "known: feeds, refresh_minutes")
    try:
        refresh = float(raw.get("refresh_minutes", 60))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: threat_intel.refresh_minutes must be a number of minutes") from None
    if refresh < 0:
        raise ConfigError(f"{where}: threat_intel.refresh_minutes must not be negative")
    feeds_raw = raw.get("feeds") or []
    if not isinstance(feeds_raw, list):
        raise ConfigError(f"{where}: threat_intel.feeds must be a list of feeds")
    feeds: list[FeedSettings] = []
    for position, item in enumerate(feeds_raw, 1):
        feed = _feed(item, position, where)
        if base is not None and "://" not in feed.path and not Path(feed.path).is_absolute():
            feed = replace(feed, path=str(base / feed.path))
        feeds.append(feed)
    names = [f.name for f in feeds]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: threat_intel.feeds: feed name(s) used twice: {', '.join(twice)}")
    return ThreatIntelSettings(tuple(feeds), refresh)


def _feed(item: Any, position: int, where: str) -> FeedSettings:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: threat_intel.feeds entry {position} must be a mapping with name and path")
    name = item.get("name")
    label = f"threat_intel feed {name!r}" if name else f"threat_intel.feeds entry {position}"
    if not name or not isinstance(name, str):
        raise ConfigError(f"{where}: {label}: needs a name (it becomes indicator.provider and feed.name)")
    unknown = sorted(set(item) - {"name", "path", "format", "column", "severity"})
    if unknown:
        raise ConfigError(f"{where}: {label}: unknown key(s) {', '.join(unknown)}; "
                          "known: name, path, format, column, severity")
    path = item.get("path")
    if not path or not isinstance(path, str):
        raise ConfigError(f"{where}: {label}: needs a path (a file or s3://bucket/key)")
    fmt = str(item.get("format", "auto")).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: {label}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    column = item.get("column")
    try:
        severity = int(item.get("severity", DEFAULT_SEVERITY))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {label}: severity must be an integer") from None
    return FeedSettings(name=name, path=path, format=fmt, column=str(column) if column is not None else None,
                        severity=severity)
