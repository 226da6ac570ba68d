"""Refreshing feeds in long-running modes: a changed feed is read again, an unchanged one is not,
a feed that breaks keeps its last good copy with one warning, and nothing happens before the
interval is up."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from connector.threat_intel.enrichment import ThreatIntel
from connector.threat_intel.feeds import FeedError
from tests.threat_intel.support import load, write_feed

HOUR = 3600.0


def rewrite(path: str, content: str) -> None:
    """New content with an mtime that certainly differs from the last one."""
    previous = os.stat(path).st_mtime_ns
    Path(path).write_text(content)
    os.utime(path, ns=(previous + 2_000_000_000, previous + 2_000_000_000))


def listed(intel: ThreatIntel, address: str) -> bool:
    return bool(intel.index.match_ip(address))


def test_a_changed_feed_is_read_again_after_the_interval(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = write_feed(tmp_path, "feed.txt", "198.51.100.1\n")
    other = write_feed(tmp_path, "other.txt", "203.0.113.1\n")
    intel = load(feed, other, refresh_minutes=60)
    rewrite(feed.path, "198.51.100.2\n2001:db8::/32\n")
    with caplog.at_level(logging.INFO):
        intel.maybe_refresh(time.monotonic() + 30 * 60)  # too early: nothing happens
        assert listed(intel, "198.51.100.1") and not listed(intel, "198.51.100.2")
        intel.maybe_refresh(time.monotonic() + HOUR)
    assert not listed(intel, "198.51.100.1")
    assert listed(intel, "198.51.100.2") and listed(intel, "2001:db8::5")
    assert listed(intel, "203.0.113.1")
    assert intel.describe() == "threat intel: 2 feeds, 3 indicators (2 addresses, 1 networks, 0 domains)"
    reloaded = [r.getMessage() for r in caplog.records if "reloaded" in r.getMessage()]
    assert reloaded == ["threat_intel feed 'feed' reloaded: 2 indicators"]  # the unchanged feed is not read


def test_a_feed_broken_on_refresh_keeps_its_last_good_copy_and_warns_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = write_feed(tmp_path, "feodo.csv", "ip\n198.51.100.1\n", format="csv")
    intel = load(feed)
    rewrite(feed.path, "garbage without any header\n")
    with caplog.at_level(logging.WARNING):
        intel.maybe_refresh(time.monotonic() + HOUR)
    assert listed(intel, "198.51.100.1")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert message.startswith(f"threat_intel feed 'feodo' ({feed.path}): ")
    assert "keeping the last good copy (1 indicators)" in message
    assert warnings[0].name.startswith("connector.threat_intel")


def test_a_feed_removed_on_refresh_keeps_its_last_good_copy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = write_feed(tmp_path, "feed.txt", "198.51.100.1\n")
    intel = load(feed)
    os.remove(feed.path)
    with caplog.at_level(logging.WARNING):
        intel.maybe_refresh(time.monotonic() + HOUR)
    assert listed(intel, "198.51.100.1")
    assert "cannot check for a new copy" in caplog.text and "keeping the last good copy" in caplog.text


def test_a_fixed_feed_is_picked_up_on_the_next_refresh(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "feed.txt", "198.51.100.1\n")
    intel = load(feed)
    rewrite(feed.path, "nothing valid\n")
    intel.maybe_refresh(time.monotonic() + HOUR)
    rewrite(feed.path, "198.51.100.9\n")
    intel.maybe_refresh(time.monotonic() + 2 * HOUR)
    assert listed(intel, "198.51.100.9") and not listed(intel, "198.51.100.1")


def test_refresh_minutes_zero_never_reloads(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "feed.txt", "198.51.100.1\n")
    intel = load(feed, refresh_minutes=0)
    rewrite(feed.path, "198.51.100.2\n")
    intel.maybe_refresh(time.monotonic() + 100 * HOUR)
    assert listed(intel, "198.51.100.1") and not listed(intel, "198.51.100.2")


def test_refreshed_index_answers_might_match_and_enrich(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "feed.txt", "198.51.100.1\n")
    intel = load(feed)
    doc = b'{"source":{"ip":"198.51.100.2"},"related":{"ip":["198.51.100.2"]}}'
    assert intel.might_match(doc) is False  # the answers are cached for the old index
    assert intel.address_listed("198.51.100.2") is False
    rewrite(feed.path, "198.51.100.2\n")
    intel.maybe_refresh(time.monotonic() + HOUR)
    assert intel.might_match(doc) is True
    assert intel.address_listed("198.51.100.2") is True
    assert intel.enrich({"source": {"ip": "198.51.100.2"}}) is True


def test_a_feed_that_cannot_be_used_stops_the_start(tmp_path: Path) -> None:
    good = write_feed(tmp_path, "good.txt", "198.51.100.1\n")
    bad = write_feed(tmp_path, "bad.json", "{oops", format="stix2")
    with pytest.raises(FeedError, match=r"^threat_intel feed 'bad' \(.*bad.json\): invalid JSON"):
        load(good, bad)
