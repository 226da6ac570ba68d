"""What the threat-intel detection must find on the demo day with the demo's feed
(``deploy/examples/demo-known-bad.txt``), worked out from the raw files and the feed's text with
``ipaddress`` alone, not with the connector's threat-intel code: every flow record whose
``srcaddr`` or ``dstaddr``, and every CloudTrail record whose ``sourceIPAddress``, is a listed
address, lies in a listed network or (for a service name) is a listed domain or below one.

The demo generator cannot label these events itself: which of them match depends on the feed, a
file it does not know. A finding is one event (``event.id``): a CloudTrail record's ``eventID``, a
flow record's id as the connector derives it (a hash of the object's key, then the line number,
the header being line 1).
"""

from __future__ import annotations

import gzip
import ipaddress
import json
from dataclasses import dataclass, replace
from pathlib import Path

from connector.demo.estate import DemoManifest
from connector.demo.labels import DetectionLabel
from connector.normalize.vpcflow import record_id_prefix

REPO = Path(__file__).resolve().parents[2]
FEED = REPO / "deploy" / "examples" / "demo-known-bad.txt"
FEED_NAME = "demo-known-bad"
# The hand-written detection in mappings/sigma/handwritten.yml.
KNOWN_BAD_ADDRESS = "a0756013-9707-4ecc-9dd9-9e95d924d14b"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class PlainFeed:
    """A plain feed's entries: networks (an address is a /32 or /128) and domains."""

    networks: tuple[Network, ...]
    domains: frozenset[str]

    def lists_address(self, text: str) -> bool:
        """Whether ``text`` is an address inside one of the networks."""
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def lists_host(self, text: str) -> bool:
        """Whether ``text`` (a host name) is a listed domain or a name below one."""
        name = text.lower().rstrip(".")
        return any(name == d or name.endswith("." + d) for d in self.domains)


def read_plain_feed(path: Path = FEED) -> PlainFeed:
    """The entries of a plain feed: one per line, ``#`` starts a comment."""
    networks: list[Network] = []
    domains: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            domains.add(entry.lower().rstrip("."))
    return PlainFeed(tuple(networks), frozenset(domains))


def _flow_lines(manifest: DemoManifest, key: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, record) of one flow-log object, the header being line 1."""
    header, *lines = gzip.decompress((manifest.root / key).read_bytes()).decode().split("\n")
    fields = header.split()
    return [(number, dict(zip(fields, line.split(" "), strict=True)))
            for number, line in enumerate(lines, 2) if line.strip()]


def known_bad_label(manifest: DemoManifest, feed: PlainFeed | None = None) -> DetectionLabel:
    """The events (``event.id``) the detection must report; the benign look-alikes are the other
    events with an internet address, none of which the feed lists."""
    feed = read_plain_feed() if feed is None else feed
    expected: set[str] = set()
    benign: set[str] = set()
    for key in manifest.flow_log_files:
        prefix = record_id_prefix(key)
        for number, record in _flow_lines(manifest, key):
            addresses = (record["srcaddr"], record["dstaddr"])
            if any(feed.lists_address(a) for a in addresses):
                expected.add(f"{prefix}{number}")
            elif any(_is_internet(a) for a in addresses):
                benign.add(f"{prefix}{number}")
    for key in manifest.cloudtrail_files:
        for record in json.loads(gzip.decompress((manifest.root / key).read_bytes()))["Records"]:
            caller = str(record.get("sourceIPAddress", ""))
            if feed.lists_address(caller) or feed.lists_host(caller):
                expected.add(record["eventID"])
            elif _is_internet(caller):
                benign.add(record["eventID"])
    return DetectionLabel("event.id", frozenset(expected), frozenset(benign))


def with_known_bad_label(manifest: DemoManifest) -> DemoManifest:
    """The manifest with the threat-intel detection's label beside the generator's labels."""
    return replace(manifest, labels={**manifest.labels, KNOWN_BAD_ADDRESS: known_bad_label(manifest)})


def _is_internet(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False
