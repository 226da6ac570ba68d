"""Feeds in S3, read over HTTP from moto in server mode: gzip'd objects, refresh on a new ETag, and
the failures (missing object, missing bucket, object gone on refresh)."""

from __future__ import annotations

import gzip
import logging
import time
from typing import Any

import pytest

from connector.threat_intel.enrichment import ThreatIntel
from connector.threat_intel.feeds import FeedError, read_feed
from connector.threat_intel.settings import FeedSettings, ThreatIntelSettings
from tests.threat_intel.conftest import BUCKET

pytestmark = pytest.mark.integration

FEODO = """\
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)
"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2021-01-17 07:44:46","51.178.161.32","4643","online","2021-08-18","QakBot"
"""


def settings(key: str, **options: Any) -> ThreatIntelSettings:
    return ThreatIntelSettings((FeedSettings("feodo", f"s3://{BUCKET}/{key}", **options),), 60)


def test_gzipped_feed_from_s3(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="feeds/feodo.csv.gz", Body=gzip.compress(FEODO.encode()))
    intel = ThreatIntel.load(settings("feeds/feodo.csv.gz"), lambda: s3)
    assert [i.description for i in intel.index.match_ip("51.178.161.32")] == ["QakBot"]


def test_a_new_etag_reloads_and_a_deleted_object_keeps_the_last_good_copy(
        s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    s3.put_object(Bucket=BUCKET, Key="feodo.csv", Body=FEODO.encode())
    intel = ThreatIntel.load(settings("feodo.csv"), lambda: s3)
    s3.put_object(Bucket=BUCKET, Key="feodo.csv", Body=(FEODO + '"2024-01-01 00:00:00","203.0.113.8","443",'
                                                        '"online","2024-01-02","Pikabot"\n').encode())
    intel.maybe_refresh(time.monotonic() + 3600)
    assert intel.index.match_ip("203.0.113.8")
    s3.delete_object(Bucket=BUCKET, Key="feodo.csv")
    with caplog.at_level(logging.WARNING):
        intel.maybe_refresh(time.monotonic() + 7200)
    assert intel.index.match_ip("203.0.113.8") and intel.index.match_ip("51.178.161.32")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"threat_intel feed 'feodo' (s3://{BUCKET}/feodo.csv): cannot check for a new copy")
    assert "keeping the last good copy (2 indicators)" in warnings[0]


@pytest.mark.parametrize(("path", "reason"), [
    (f"s3://{BUCKET}/absent.csv", "cannot read: no such object (NoSuchKey)"),
    ("s3://no-such-bucket-here/feed.csv", "cannot read: no such bucket"),
])
def test_unreadable_s3_feed_stops_the_start(s3: Any, path: str, reason: str) -> None:
    feed = FeedSettings("partner", path)
    with pytest.raises(FeedError) as caught:
        ThreatIntel.load(ThreatIntelSettings((feed,), 60), lambda: s3)
    assert str(caught.value).startswith(f"threat_intel feed 'partner' ({path}): ")
    assert reason in str(caught.value)


def test_read_feed_gets_the_object_bytes(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"198.51.100.1\n")
    assert read_feed(FeedSettings("plain", f"s3://{BUCKET}/plain.txt"), lambda: s3) == b"198.51.100.1\n"
