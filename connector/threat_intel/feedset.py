"""The configured feeds and the last good copy of each: all read at start (any failure stops the
start), and on refresh only the ones whose file or S3 object changed are read again. A feed that
fails on refresh keeps its last good indicators and logs one warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from connector.threat_intel.feeds import FeedError, S3ClientFactory, feed_version, parse_feed, read_versioned
from connector.threat_intel.indicators import DOMAIN, Indicator
from connector.threat_intel.settings import FeedSettings, ThreatIntelSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedFeed:
    """One feed's last good copy and the version (mtime and size, or ETag) it was read at."""

    settings: FeedSettings
    version: str
    indicators: list[Indicator]


class FeedSet:
    """Every configured feed, each with its last good copy."""

    def __init__(self, feeds: list[LoadedFeed], s3_client_factory: S3ClientFactory | None) -> None:
        self.feeds = feeds
        self._s3 = s3_client_factory

    @classmethod
    def load(cls, settings: ThreatIntelSettings, s3_client_factory: S3ClientFactory | None = None) -> FeedSet:
        """Read every feed; raises ``FeedError`` for the first that cannot be used."""
        return cls([_load(feed, s3_client_factory) for feed in settings.feeds], s3_client_factory)

    def refresh(self) -> bool:
        """Re-read the feeds that changed; True when any indicators were replaced."""
        changed = False
        for feed in self.feeds:
            try:
                version = feed_version(feed.settings, self._s3)
                if version == feed.version:
                    continue
                fresh = _load(feed.settings, self._s3)
            except FeedError as exc:
                log.warning("%s; keeping the last good copy (%s indicators)", exc, f"{len(feed.indicators):,}")
                continue
            feed.version, feed.indicators = fresh.version, fresh.indicators
            changed = True
            log.info("threat_intel feed %r reloaded: %s indicators", feed.settings.name, f"{len(feed.indicators):,}")
        return changed

    def indicators(self) -> Iterator[Indicator]:
        """Every feed's indicators, feed by feed in configuration order."""
        for feed in self.feeds:
            yield from feed.indicators

    def counts(self) -> tuple[int, int, int]:
        """(addresses, networks, domains) over all feeds."""
        addresses = networks = domains = 0
        for indicator in self.indicators():
            if indicator.type == DOMAIN:
                domains += 1
            elif indicator.is_network:
                networks += 1
            else:
                addresses += 1
        return addresses, networks, domains


def _load(settings: FeedSettings, s3_client_factory: S3ClientFactory | None) -> LoadedFeed:
    data, version = read_versioned(settings, s3_client_factory)  # the version of exactly these bytes
    return LoadedFeed(settings, version, parse_feed(data, settings))
