"""Reading and parsing feeds: every format, auto-detection, the entries that are not indicators,
and the feeds that cannot be used at all (each stops the start naming the feed and its path)."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.threat_intel.feeds import FeedError, parse_feed, read_feed
from connector.threat_intel.indicators import Indicator
from connector.threat_intel.settings import FeedSettings
from tests.threat_intel.support import write_feed

FEODO = """\
################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
# Last updated: 2021-08-17 15:00:42 UTC                        #
#                                                              #
# Terms Of Use: https://feodotracker.abuse.ch/blocklist/       #
# For questions please contact feodotracker [at] abuse.ch      #
################################################################
#
"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2021-01-17 07:30:05","67.213.75.205","443","offline","2021-08-18","Dridex"
"2021-01-17 07:44:46","51.178.161.32","4643","online","2021-08-18","QakBot"
"2021-01-17 07:44:50","51.178.161.32","3786","online","2021-08-19","QakBot"
# "Number of entries: 3"
"""

THREATFOX = """\
################################################################
# ThreatFox IOCs: recent - CSV format                          #
################################################################
#
# "first_seen_utc","ioc_id","ioc_value","ioc_type","malware_printable","last_seen_utc","confidence_level","reference"
"2024-03-01 10:00:00","1","198.51.100.77:8443","ip:port","Cobalt Strike","","100","https://example.org/c2"
"2024-03-01 11:00:00","2","c2.evil.example","domain","Cobalt Strike","","50",""
"""


def parsed(tmp_path: Path, content: str | bytes, name: str = "feed.txt", **options: Any) -> list[Indicator]:
    settings = write_feed(tmp_path, name, content, **options)
    return parse_feed(read_feed(settings), settings)


def values(indicators: list[Indicator]) -> list[str]:
    return [i.value for i in indicators]


def stix_bundle(*indicators: dict[str, Any]) -> str:
    objects = [{"type": "identity", "id": "identity--1", "name": "CERT"}]
    for n, extra in enumerate(indicators):
        objects.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{n}",
                        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", **extra})
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})


def misp_event(attributes: list[dict[str, Any]], objects: list[dict[str, Any]] | None = None,
               info: str = "Emotet campaign") -> dict[str, Any]:
    return {"Event": {"id": "12", "uuid": "ev-1", "info": info, "Attribute": attributes,
                      "Object": objects or []}}


# -- plain --------------------------------------------------------------------------------------

def test_plain_list_with_comments_blank_lines_and_every_kind_of_indicator(tmp_path: Path) -> None:
    feed = """# my blocklist
203.0.113.9
2001:DB8::0:1          # upper case, not compressed
198.51.100.0/24 ; SBL123

10.20.30.40/32
Evil.Example.          # a domain with a trailing dot
2001:db8:abcd::/48
"""
    found = parsed(tmp_path, feed, format="plain")
    assert values(found) == ["203.0.113.9", "2001:db8::1", "198.51.100.0/24", "10.20.30.40", "evil.example",
                             "2001:db8:abcd::/48"]
    assert [i.type for i in found] == ["ipv4-addr", "ipv6-addr", "ipv4-addr", "ipv4-addr", "domain-name",
                                       "ipv6-addr"]
    assert all(i.feed == "feed" and i.severity == 73 for i in found)


def test_invalid_lines_are_counted_in_one_warning_with_the_first_example(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = "203.0.113.9\nnot an address\n999.1.1.1\n0.0.0.0/0\nhttp://evil.example/x\n198.51.100.1\n"
    with caplog.at_level(logging.WARNING):
        found = parsed(tmp_path, feed, name="mixed.txt", format="plain")
    assert values(found) == ["203.0.113.9", "198.51.100.1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'mixed'" in warnings[0] and str(tmp_path / "mixed.txt") in warnings[0]
    assert "4 entries not an IP address, network or domain name" in warnings[0]
    assert "'not an address' at line 2" in warnings[0]


def test_the_same_value_twice_in_one_feed_is_one_indicator_the_first_listing_wins(tmp_path: Path) -> None:
    found = parsed(tmp_path, FEODO, name="feodo.csv", format="csv")
    assert values(found) == ["67.213.75.205", "51.178.161.32"]
    assert found[1].last_seen == "2021-08-18T00:00:00.000Z"


def test_defanged_bracketed_and_ported_spellings_are_read(tmp_path: Path) -> None:
    feed = "198.51.100[.]7\n[2001:db8::9]:443\n203.0.113.5:8080\n*.tracker.example\n::ffff:192.0.2.44\n"
    assert values(parsed(tmp_path, feed, format="plain")) == [
        "198.51.100.7", "2001:db8::9", "203.0.113.5", "tracker.example", "192.0.2.44"]


# -- csv ----------------------------------------------------------------------------------------

def test_feodo_tracker_csv_with_its_comment_banner(tmp_path: Path) -> None:
    found = parsed(tmp_path, FEODO, name="feodo-ipblocklist.csv", format="csv")
    assert found[0] == Indicator("67.213.75.205", "ipv4-addr", "feodo-ipblocklist", 73, description="Dridex",
                                 first_seen="2021-01-17T07:30:05.000Z", last_seen="2021-08-18T00:00:00.000Z")


def test_threatfox_csv_with_the_header_inside_the_comment_banner(tmp_path: Path) -> None:
    found = parsed(tmp_path, THREATFOX, name="threatfox.csv", format="csv")
    assert found == [
        Indicator("198.51.100.77", "ipv4-addr", "threatfox", 73, description="Cobalt Strike",
                  first_seen="2024-03-01T10:00:00.000Z", confidence="High", reference="https://example.org/c2"),
        Indicator("c2.evil.example", "domain-name", "threatfox", 73, description="Cobalt Strike",
                  first_seen="2024-03-01T11:00:00.000Z", confidence="Medium"),
    ]


def test_csv_column_set_by_name_wins_over_the_column_found_by_name(tmp_path: Path) -> None:
    feed = "ip,Attacker Address,note\n10.0.0.1,203.0.113.50,scanner\n10.0.0.2,203.0.113.51,scanner\n"
    found = parsed(tmp_path, feed, name="custom.csv", format="csv", column="attacker address")
    assert values(found) == ["203.0.113.50", "203.0.113.51"]
    assert found[0].description is None  # "note" is not a description column


def test_csv_severity_from_the_settings(tmp_path: Path) -> None:
    found = parsed(tmp_path, "indicator\n203.0.113.1\n", name="one.csv", format="csv", severity=99)
    assert found[0].severity == 99


def test_csv_short_rows_count_as_invalid(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = "name,ip_address\nscanner,203.0.113.1\nonly-one-cell\n"
    with caplog.at_level(logging.WARNING):
        assert values(parsed(tmp_path, feed, format="csv")) == ["203.0.113.1"]
    assert "1 entry not an IP address" in caplog.text and "line 3" in caplog.text


# -- STIX 2.1 -----------------------------------------------------------------------------------

def test_stix_equality_subset_and_or_patterns(tmp_path: Path) -> None:
    bundle = stix_bundle(
        {"pattern": "[ipv4-addr:value = '198.51.100.1']", "name": "C2 server", "confidence": 85,
         "external_references": [{"source_name": "cert", "url": "https://cert.example/1"}]},
        {"pattern": "[ipv6-addr:value = '2001:db8::1']", "description": "Relay"},
        {"pattern": "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
        {"pattern": "[ipv6-addr:value ISSUBSET '2001:db8:1::/48']"},
        {"pattern": "[domain-name:value = 'evil.example']"},
        {"pattern": "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']"},
        {"pattern": "[domain-name:value = 'a.example'] OR [ipv4-addr:value = '192.0.2.3']"},
    )
    found = parsed(tmp_path, bundle, name="cert.json", format="stix2")
    assert values(found) == ["198.51.100.1", "2001:db8::1", "203.0.113.0/24", "2001:db8:1::/48", "evil.example",
                             "192.0.2.1", "192.0.2.2", "a.example", "192.0.2.3"]
    assert found[0] == Indicator("198.51.100.1", "ipv4-addr", "cert", 73, description="C2 server",
                                 first_seen="2024-01-01T00:00:00.000Z", confidence="High",
                                 reference="https://cert.example/1")
    assert found[1].description == "Relay"


def test_stix_patterns_that_cannot_be_matched_are_counted_not_fatal(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bundle = stix_bundle(
        {"pattern": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"},
        {"pattern": "[ipv4-addr:value = '198.51.100.1' AND network-traffic:dst_port = 443]"},
        {"pattern": "[ipv4-addr:value = '198.51.100.2'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.3']"},
        {"pattern": "alert tcp any any -> any any", "pattern_type": "snort"},
        {"pattern": "[ipv4-addr:value = '198.51.100.9']"},
    )
    with caplog.at_level(logging.WARNING):
        found = parsed(tmp_path, bundle, name="mixed.json", format="stix2")
    assert values(found) == ["198.51.100.9"]
    assert "4 entries with a pattern that cannot be matched" in caplog.text
    assert "file:hashes" in caplog.text and "indicator--0" in caplog.text


def test_stix_revoked_and_expired_indicators_are_left_out(tmp_path: Path) -> None:
    bundle = stix_bundle(
        {"pattern": "[ipv4-addr:value = '198.51.100.1']", "revoked": True},
        {"pattern": "[ipv4-addr:value = '198.51.100.2']", "valid_until": "2001-01-01T00:00:00Z"},
        {"pattern": "[ipv4-addr:value = '198.51.100.3']", "valid_until": "2999-01-01T00:00:00Z"},
    )
    assert values(parsed(tmp_path, bundle, format="stix2")) == ["198.51.100.3"]


# -- MISP ---------------------------------------------------------------------------------------

def test_misp_event_with_attributes_and_objects(tmp_path: Path) -> None:
    event = misp_event(
        [
            {"type": "ip-dst", "value": "198.51.100.10", "to_ids": True, "comment": "C2"},
            {"type": "ip-src|port", "value": "203.0.113.7|4444", "to_ids": True},
            {"type": "domain|ip", "value": "c2.evil.example|192.0.2.55", "to_ids": True},
            {"type": "hostname", "value": "Drop.Evil.Example", "to_ids": True},
            {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "to_ids": True},
            {"type": "ip-dst", "value": "198.51.100.11", "to_ids": False},
            {"type": "ip-dst", "value": "198.51.100.12", "to_ids": True, "deleted": True},
            {"type": "ip-dst", "value": "198.51.100.0/28", "to_ids": "1",
             "first_seen": "2024-02-01T10:00:00.000000+00:00"},
        ],
        objects=[{"name": "ip-port", "Attribute": [
            {"type": "ip-dst", "value": "2001:db8::66", "to_ids": True},
            {"type": "ip-dst|port", "value": "2001:db8::67|443"},  # no to_ids: MISP's default (true)
        ]}],
    )
    found = parsed(tmp_path, json.dumps(event), name="misp.json", format="misp")
    assert values(found) == ["198.51.100.10", "203.0.113.7", "c2.evil.example", "192.0.2.55", "drop.evil.example",
                             "198.51.100.0/28", "2001:db8::66", "2001:db8::67"]
    assert found[0].description == "C2"
    assert found[1].description == "Emotet campaign"  # the event's info when the attribute has no comment
    assert found[5].first_seen == "2024-02-01T10:00:00.000Z"


@pytest.mark.parametrize("shape", ["list", "response"])
def test_misp_lists_of_events_and_rest_responses(tmp_path: Path, shape: str) -> None:
    events = [misp_event([{"type": "ip-src", "value": "198.51.100.1"}]),
              misp_event([{"type": "domain", "value": "evil.example"}])]
    doc: Any = events if shape == "list" else {"response": events}
    assert values(parsed(tmp_path, json.dumps(doc), format="misp")) == ["198.51.100.1", "evil.example"]


# -- auto ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    (FEODO, ["67.213.75.205", "51.178.161.32"]),
    (THREATFOX, ["198.51.100.77", "c2.evil.example"]),
    ("# list\n203.0.113.1\n203.0.113.2  # scanner, seen twice\n", ["203.0.113.1", "203.0.113.2"]),
    ("evil.example\n", ["evil.example"]),
    (stix_bundle({"pattern": "[ipv4-addr:value = '192.0.2.9']"}), ["192.0.2.9"]),
    (json.dumps(misp_event([{"type": "ip-dst", "value": "192.0.2.10"}])), ["192.0.2.10"]),
    (json.dumps([misp_event([{"type": "ip-dst", "value": "192.0.2.11"}])]), ["192.0.2.11"]),
    (json.dumps({"response": [misp_event([{"type": "ip-dst", "value": "192.0.2.12"}])]}), ["192.0.2.12"]),
], ids=["feodo-csv", "threatfox-csv", "plain", "plain-domain", "stix2", "misp", "misp-list", "misp-response"])
def test_auto_detects_each_format(tmp_path: Path, content: str, expected: list[str]) -> None:
    assert values(parsed(tmp_path, content, format="auto")) == expected


def test_gzipped_feed_is_gunzipped_whatever_its_name(tmp_path: Path) -> None:
    found = parsed(tmp_path, gzip.compress(FEODO.encode()), name="feodo.csv")
    assert values(found) == ["67.213.75.205", "51.178.161.32"]


# -- feeds that cannot be used ------------------------------------------------------------------

@pytest.mark.parametrize(("content", "options", "reason"), [
    ("", {"format": "plain"}, "no valid indicator"),
    ("# only comments\n\n", {"format": "auto"}, "no valid indicator"),
    ("not-an-indicator\nneither this\n", {"format": "plain"}, "no valid indicator"),
    ("{not json", {"format": "stix2"}, "invalid JSON"),
    ("[1, 2", {"format": "misp"}, "invalid JSON"),
    ("{not json", {"format": "auto"}, "invalid JSON"),
    ('{"type": "report"}', {"format": "stix2"}, "not a STIX 2.1 bundle"),
    ('{"something": []}', {"format": "misp"}, "not a MISP event export"),
    ('{"something": []}', {"format": "auto"}, "neither a STIX 2.1 bundle nor a MISP event export"),
    ("first,second\na,b\n", {"format": "csv"}, "no indicator column in the CSV header (first, second)"),
    ("ip,port\n192.0.2.1,80\n", {"format": "csv", "column": "address"}, "column 'address' is not in the CSV header"),
    ("192.0.2.1,80\n", {"format": "csv"}, "no CSV header row"),
    (stix_bundle({"pattern": "[url:value = 'http://x.example/']"}), {"format": "stix2"}, "no valid indicator"),
    (gzip.compress(FEODO.encode())[:40], {}, "truncated gzip"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff garbage", {}, "corrupt gzip"),
], ids=["empty", "comments", "nothing-valid", "stix-json", "misp-json", "auto-json", "stix-shape", "misp-shape",
        "auto-shape", "csv-no-column", "csv-missing-column", "csv-no-header", "stix-unsupported", "truncated-gzip",
        "corrupt-gzip"])
def test_unusable_feed_raises_feed_error_naming_feed_and_path(
        tmp_path: Path, content: str | bytes, options: dict[str, Any], reason: str) -> None:
    settings = write_feed(tmp_path, "bad-feed.dat", content, feed_name="partner-intel", **options)
    with pytest.raises(FeedError) as caught:
        parse_feed(read_feed(settings), settings)
    message = str(caught.value)
    assert message.startswith(f"threat_intel feed 'partner-intel' ({tmp_path / 'bad-feed.dat'}): ")
    assert reason in message
    assert "\n" not in message
    assert isinstance(caught.value, ConfigError)


def test_missing_file_raises_feed_error(tmp_path: Path) -> None:
    settings = FeedSettings("gone", str(tmp_path / "nowhere.csv"))
    with pytest.raises(FeedError, match=r"threat_intel feed 'gone' \(.*nowhere.csv\): cannot read: No such file"):
        read_feed(settings)


def test_s3_feed_without_aws_access_raises_feed_error() -> None:
    with pytest.raises(FeedError, match=r"feed 'remote' \(s3://bucket/feed.csv\): an s3:// feed needs AWS access"):
        read_feed(FeedSettings("remote", "s3://bucket/feed.csv"), None)


def test_s3_path_without_a_key_raises_feed_error() -> None:
    with pytest.raises(FeedError, match="needs a bucket and a key"):
        read_feed(FeedSettings("remote", "s3://bucket-only"), lambda: None)
