"""What a match writes into a document (exact fields), which fields are checked, severity and tag,
on documents made by the real flow-log and CloudTrail normalizers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson

from connector.pipeline import RecordProcessor
from tests.threat_intel.support import flow_docs, load, trail_docs, trail_record, write_feed

FEODO = """\
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)
"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2021-01-17 07:44:46","51.178.161.32","4643","online","2021-08-18","QakBot"
"""


def decoded(encoded: bytes) -> dict[str, Any]:
    doc = orjson.loads(encoded)
    assert isinstance(doc, dict)
    return doc


def test_flow_document_matching_a_feodo_address_gets_the_exact_enrichment(
        tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "feodo.csv", FEODO, severity=80))
    doc = decoded(flow_docs(processor, ("10.0.1.5", "51.178.161.32"))[0])
    before = copy.deepcopy(doc)
    assert intel.enrich(doc) is True
    assert doc["threat"] == {"enrichments": [{
        "indicator": {"type": "ipv4-addr", "name": "51.178.161.32", "provider": "feodo", "ip": "51.178.161.32",
                      "description": "QakBot", "first_seen": "2021-01-17T07:44:46.000Z",
                      "last_seen": "2021-08-18T00:00:00.000Z"},
        "matched": {"atomic": "51.178.161.32", "field": "destination.ip", "type": "indicator_match_rule"},
        "feed": {"name": "feodo"},
    }]}
    assert doc["event"]["severity"] == 80
    assert doc["tags"] == ["threat-intel-match"]
    # Nothing else changed.
    assert {k: v for k, v in doc.items() if k not in ("threat", "tags", "event")} == \
        {k: v for k, v in before.items() if k != "event"}
    assert {k: v for k, v in doc["event"].items() if k != "severity"} == before["event"]


def test_network_indicator_reports_the_matched_address_and_the_network_as_name(
        tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "nets.txt", "2001:db8:bad::/48\n203.0.113.0/24\n"))
    doc = decoded(flow_docs(processor, ("2001:DB8:BAD::17", "2001:db8::1"))[0])
    assert intel.enrich(doc)
    assert doc["threat"]["enrichments"] == [{
        "indicator": {"type": "ipv6-addr", "name": "2001:db8:bad::/48", "provider": "nets", "ip": "2001:db8:bad::17"},
        "matched": {"atomic": doc["source"]["ip"], "field": "source.ip", "type": "indicator_match_rule"},
        "feed": {"name": "nets"},
    }]


def test_one_entry_per_indicator_and_field_across_feeds(tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "a.txt", "203.0.113.9\n", severity=40),
                 write_feed(tmp_path, "b.txt", "203.0.113.0/24\n198.51.100.4\n", severity=90))
    doc = decoded(flow_docs(processor, ("203.0.113.9", "198.51.100.4"))[0])
    assert intel.enrich(doc)
    got = [(e["feed"]["name"], e["indicator"]["name"], e["matched"]["field"]) for e in doc["threat"]["enrichments"]]
    assert got == [("a", "203.0.113.9", "source.ip"), ("b", "203.0.113.0/24", "source.ip"),
                   ("b", "198.51.100.4", "destination.ip")]
    assert doc["event"]["severity"] == 90


def test_severity_keeps_a_higher_existing_value_and_tags_are_appended(tmp_path: Path) -> None:
    intel = load(write_feed(tmp_path, "feed.txt", "198.51.100.4\n", severity=50))
    high: dict[str, Any] = {"event": {"severity": 99}, "source": {"ip": "198.51.100.4"}, "tags": ["forwarded"]}
    assert intel.enrich(high)
    assert high["event"]["severity"] == 99
    assert high["tags"] == ["forwarded", "threat-intel-match"]
    low: dict[str, Any] = {"event": {"severity": 10}, "source": {"ip": "198.51.100.4"}, "tags": "single"}
    assert intel.enrich(low)
    assert low["event"]["severity"] == 50
    assert low["tags"] == ["single", "threat-intel-match"]


def test_enriching_twice_adds_nothing(tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "feodo.csv", FEODO))
    doc = decoded(flow_docs(processor, ("51.178.161.32", "10.0.0.9"))[0])
    assert intel.enrich(doc)
    once = orjson.dumps(doc)
    assert intel.enrich(doc)
    assert orjson.dumps(doc) == once


def test_no_match_leaves_the_document_untouched(tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "feodo.csv", FEODO))
    encoded = flow_docs(processor, ("10.0.0.8", "198.51.100.200"))[0]
    doc = decoded(encoded)
    assert intel.enrich(doc) is False
    assert orjson.dumps(doc) == encoded


def test_other_address_fields_and_related_ip_entries_not_otherwise_covered(tmp_path: Path) -> None:
    intel = load(write_feed(tmp_path, "feed.txt", "198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4\n"))
    doc: dict[str, Any] = {"client": {"ip": "198.51.100.1"}, "server": {"ip": "198.51.100.2"},
                           "host": {"ip": ["10.0.0.1", "198.51.100.3"]},
                           "related": {"ip": ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]}}
    assert intel.enrich(doc)
    assert [(e["matched"]["field"], e["matched"]["atomic"]) for e in doc["threat"]["enrichments"]] == [
        ("client.ip", "198.51.100.1"), ("server.ip", "198.51.100.2"), ("host.ip", "198.51.100.3"),
        ("related.ip", "198.51.100.4")]


def test_cloudtrail_source_address_tls_host_and_source_ip(tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "domains.txt", "evil.example\n203.0.113.66\n", feed_name="mixed"))
    by_host, by_service, by_ip = (decoded(d) for d in trail_docs(
        processor,
        trail_record("198.51.100.10", host="api.evil.example"),
        trail_record("lambda.evil.example"),
        trail_record("203.0.113.66", host="sts.amazonaws.com"),
    ))
    assert intel.enrich(by_host) and intel.enrich(by_service) and intel.enrich(by_ip)
    assert by_host["threat"]["enrichments"] == [{
        "indicator": {"type": "domain-name", "name": "evil.example", "provider": "mixed",
                      "url": {"domain": "evil.example"}},
        "matched": {"atomic": "api.evil.example", "field": "tls.client.server_name", "type": "indicator_match_rule"},
        "feed": {"name": "mixed"},
    }]
    assert [(e["matched"]["field"], e["matched"]["atomic"]) for e in by_service["threat"]["enrichments"]] == [
        ("source.address", "lambda.evil.example")]
    assert [(e["matched"]["field"], e["matched"]["atomic"]) for e in by_ip["threat"]["enrichments"]] == [
        ("source.ip", "203.0.113.66")]


def test_enrich_encoded_rewrites_only_matching_documents(tmp_path: Path, processor: RecordProcessor) -> None:
    intel = load(write_feed(tmp_path, "feodo.csv", FEODO))
    encoded = flow_docs(processor, ("10.0.0.1", "10.0.0.2"), ("10.0.0.3", "51.178.161.32"), ("10.0.0.4", "10.0.0.5"))
    original = list(encoded)
    assert intel.enrich_encoded(encoded) == 1
    assert encoded[0] is original[0] and encoded[2] is original[2]
    assert decoded(encoded[1])["threat"]["enrichments"][0]["matched"]["atomic"] == "51.178.161.32"


def test_describe_and_indicator_count(tmp_path: Path) -> None:
    intel = load(write_feed(tmp_path, "a.txt", "198.51.100.1\n198.51.100.2\n10.0.0.0/8\n"),
                 write_feed(tmp_path, "b.txt", "evil.example\n198.51.100.1\n2001:db8::/32\n"))
    assert intel.indicator_count == 6
    assert intel.describe() == "threat intel: 2 feeds, 6 indicators (3 addresses, 2 networks, 1 domains)"


def test_address_listed_for_the_flow_fast_path(tmp_path: Path) -> None:
    intel = load(write_feed(tmp_path, "feed.txt", "198.51.100.7\n203.0.113.0/24\n2001:db8:bad::/48\n"))
    for _first_then_cached in range(2):
        assert intel.address_listed("198.51.100.7")
        assert intel.address_listed("203.0.113.200")
        assert intel.address_listed("2001:DB8:BAD::1")
        assert intel.address_listed("::ffff:198.51.100.7")
        assert not intel.address_listed("198.51.100.8")
        assert not intel.address_listed("ec2.amazonaws.com")
        assert not intel.address_listed("-")
