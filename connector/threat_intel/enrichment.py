"""Threat-intel enrichment of normalized documents: feeds loaded and refreshed, the cheap test
on serialized documents, and what a match writes (ECS ``threat.enrichments``,
``event.severity``, a tag). The fields checked are listed in ``fields.py``.

A match adds one ``threat.enrichments`` entry per (indicator, matched field); ``matched.type`` is
``indicator_match_rule``, the value ECS gives as its example and Elastic Security writes for a
match of an event's field against an indicator's atomic value, which is what this is (the other
value Kibana knows, ``investigation_time``, marks enrichments it computes when an analyst opens
an alert). ECS has no ``indicator.domain``: a domain goes to ``indicator.url.domain``. Enriching
a document twice adds nothing the second time.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import orjson

from connector.threat_intel.feeds import S3ClientFactory
from connector.threat_intel.feedset import FeedSet
from connector.threat_intel.fields import ADDRESS_FIELDS, HOST_FIELDS, IP_FIELDS, RELATED_IP
from connector.threat_intel.index import IndicatorIndex
from connector.threat_intel.indicators import DOMAIN, Indicator
from connector.threat_intel.prefilter import DocumentPrefilter
from connector.threat_intel.settings import ThreatIntelSettings

TAG = "threat-intel-match"
MATCH_TYPE = "indicator_match_rule"
ADDRESSES_CACHED = 131_072  # as the address cache of connector.enrich.addresses


class ThreatIntel:
    """Loaded feeds, their index, and the per-document test and enrichment."""

    def __init__(self, feeds: FeedSet, refresh_minutes: float, checked_at: float | None = None) -> None:
        self._feeds = feeds
        self._refresh_seconds = refresh_minutes * 60
        self._checked_at = time.monotonic() if checked_at is None else checked_at
        self._build()

    @classmethod
    def load(cls, settings: ThreatIntelSettings, s3_client_factory: S3ClientFactory | None = None) -> ThreatIntel:
        """Read every feed (``FeedError`` names the first that cannot be used) and index them."""
        return cls(FeedSet.load(settings, s3_client_factory), settings.refresh_minutes)

    def _build(self) -> None:
        self._index = IndicatorIndex(self._feeds.indicators())
        self._prefilter = DocumentPrefilter(self._index)
        self._unlisted: set[str] = set()  # address texts no indicator lists (bounded), and those listed
        self._listed: set[str] = set()
        self._counts = self._feeds.counts()

    @property
    def index(self) -> IndicatorIndex:
        """The current index (replaced when a refresh changes a feed)."""
        return self._index

    @property
    def indicator_count(self) -> int:
        """Indicators over all feeds (a value listed by two feeds counts twice)."""
        return sum(self._counts)

    def describe(self) -> str:
        """One line for the start-up log."""
        addresses, networks, domains = self._counts
        feeds = len(self._feeds.feeds)
        return (f"threat intel: {feeds} feed{'s' if feeds != 1 else ''}, {self.indicator_count:,} indicators "
                f"({addresses:,} addresses, {networks:,} networks, {domains:,} domains)")

    @property
    def unlisted_addresses(self) -> set[str]:
        """Addresses ``address_listed`` found no indicator for (bounded; replaced on refresh): the
        flow-log fast path tests membership here before it calls ``address_listed``."""
        return self._unlisted

    def address_listed(self, text: str) -> bool:
        """Whether an indicator lists the address ``text`` (the flow-log fast path's test of its
        two addresses, before it writes any JSON)."""
        if text in self._unlisted:  # the common answer, in the cheapest test Python has
            return False
        if text in self._listed:
            return True
        listed = bool(self._index.resolve_ip(text))
        known = self._listed if listed else self._unlisted
        if len(known) >= ADDRESSES_CACHED:
            known.clear()
        known.add(text)
        return listed

    def might_match(self, encoded: bytes) -> bool:
        """A test on the serialized document: False only when certainly nothing in it is listed."""
        return self._prefilter.might_match(encoded)

    def candidates(self, encoded: list[bytes], dataset: str | None = None) -> list[int]:
        """Positions of the documents of a chunk that ``might_match`` (one loop, no call per
        document in the common case). ``dataset`` is the chunk's (``NormalizedChunk.dataset``):
        flow documents carry no host names, so a flow chunk skips that part of the test."""
        return self._prefilter.candidates(encoded, dataset)

    def enrich_encoded(self, encoded: list[bytes], dataset: str | None = None) -> int:
        """Enrich serialized documents in place (decoding only the ``candidates``); how many matched."""
        matched = 0
        for position in self._prefilter.candidates(encoded, dataset):
            doc = orjson.loads(encoded[position])
            if self.enrich(doc):
                encoded[position] = orjson.dumps(doc)
                matched += 1
        return matched

    def enrich(self, doc: dict[str, Any]) -> bool:
        """Add ``threat.enrichments``, raise ``event.severity`` and tag the document when any
        checked field is listed; True when something matched."""
        index = self._index
        found: list[tuple[Indicator, str, str]] = []
        seen_ips: set[str] = set()
        if index.has_addresses:
            for parent, leaf in IP_FIELDS:
                for value in _values(doc, parent, leaf):
                    seen_ips.add(value)
                    found.extend((hit, f"{parent}.{leaf}", value) for hit in index.ip_hits(value) or ())
            for value in _values(doc, *RELATED_IP):
                if value not in seen_ips:
                    seen_ips.add(value)
                    found.extend((hit, "related.ip", value) for hit in index.ip_hits(value) or ())
        if index.has_domains:
            for parent, leaf in ADDRESS_FIELDS:
                for value in _values(doc, parent, leaf, scalar_only=True):
                    if index.ip_hits(value) is None:
                        found.extend((hit, f"{parent}.{leaf}", value) for hit in index.host_hits(value))
            for path in HOST_FIELDS:
                for value in _values(doc, *path, scalar_only=True):
                    found.extend((hit, ".".join(path), value) for hit in index.host_hits(value))
        if not found:
            return False
        _write(doc, found)
        return True

    def maybe_refresh(self, now: float | None = None) -> None:
        """When ``refresh_minutes`` have passed since the last check (``now`` is a ``time.monotonic()``
        reading), re-read the feeds that changed and rebuild the index."""
        if self._refresh_seconds <= 0:
            return
        moment = time.monotonic() if now is None else now
        if moment - self._checked_at < self._refresh_seconds:
            return
        self._checked_at = moment
        if self._feeds.refresh():
            self._build()


def _values(doc: dict[str, Any], *path: str, scalar_only: bool = False) -> list[str]:
    """The text values at ``path`` (a string, or the strings of a list unless ``scalar_only``)."""
    node: Any = doc
    for key in path:
        if node.__class__ is not dict:
            return []
        node = node.get(key)
    if isinstance(node, str):
        return [node]
    if isinstance(node, list) and not scalar_only:
        return [item for item in node if isinstance(item, str)]
    return []


def _write(doc: dict[str, Any], found: list[tuple[Indicator, str, str]]) -> None:
    threat = doc.get("threat")
    if not isinstance(threat, dict):
        threat = doc["threat"] = {}
    enrichments = threat.get("enrichments")
    if not isinstance(enrichments, list):
        enrichments = threat["enrichments"] = []
    severity = 0
    for indicator, field, atomic in found:
        entry = enrichment_entry(indicator, field, atomic)
        if entry not in enrichments:
            enrichments.append(entry)
        severity = max(severity, indicator.severity)
    event = doc.get("event")
    if not isinstance(event, dict):
        event = doc["event"] = {}
    current = event.get("severity")
    event["severity"] = max(severity, current) if isinstance(current, int) and not isinstance(current, bool) \
        else severity
    tags = doc.get("tags")
    if isinstance(tags, list):
        if TAG not in tags:
            tags.append(TAG)
    else:
        doc["tags"] = [tags, TAG] if isinstance(tags, str) else [TAG]


def enrichment_entry(indicator: Indicator, field: str, atomic: str) -> dict[str, Any]:
    """One ECS ``threat.enrichments`` entry: the indicator, what matched, and the feed."""
    found: dict[str, Any] = {"type": indicator.type, "name": indicator.value, "provider": indicator.feed}
    if indicator.type == DOMAIN:
        found["url"] = {"domain": indicator.value}
    elif indicator.is_network:
        found["ip"] = _canonical_address(atomic)
    else:
        found["ip"] = indicator.value
    for key in ("description", "first_seen", "last_seen", "confidence", "reference"):
        value = getattr(indicator, key)
        if value is not None:
            found[key] = value
    return {"indicator": found, "matched": {"atomic": atomic, "field": field, "type": MATCH_TYPE},
            "feed": {"name": indicator.feed}}


def _canonical_address(text: str) -> str:
    address = ipaddress.ip_address(text)
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)
