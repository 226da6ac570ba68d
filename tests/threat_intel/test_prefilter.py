"""The byte-level test before decoding: it may say True for a document that does not match, never
False for one that does. Checked on documents of the real normalizers and on hand-built ones
(fields in any order, nested look-alikes of ``related`` and ``ip`` in request parameters)."""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from connector.pipeline import RecordProcessor
from connector.threat_intel.enrichment import ThreatIntel
from connector.threat_intel.feeds import parse_feed
from connector.threat_intel.feedset import FeedSet, LoadedFeed
from connector.threat_intel.settings import FeedSettings
from tests.threat_intel.support import flow_docs, trail_docs, trail_record


def intel_from(*lines: str) -> ThreatIntel:
    """``ThreatIntel`` over one plain feed held in memory."""
    settings = FeedSettings("mem", "memory://feed", format="plain")
    indicators = parse_feed("\n".join(lines).encode(), settings)
    return ThreatIntel(FeedSet([LoadedFeed(settings, "v1", indicators)], None), 0)


def agrees(intel: ThreatIntel, encoded: bytes) -> bool:
    """``might_match`` is True wherever ``enrich`` matches."""
    return intel.might_match(encoded) or not intel.enrich(orjson.loads(encoded))


def batch_agrees(intel: ThreatIntel, encoded: list[bytes], dataset: str | None = None) -> bool:
    """``enrich_encoded`` rewrites exactly the documents ``enrich`` matches, as ``enrich`` would
    (told the chunk's dataset or not)."""
    expected = []
    for data in encoded:
        doc = orjson.loads(data)
        expected.append(orjson.dumps(doc) if intel.enrich(doc) else data)
    changed = sum(a != b for a, b in zip(encoded, expected, strict=True))
    for told in (None, dataset, None, dataset):  # cold, then warm caches
        batch = list(encoded)
        if intel.enrich_encoded(batch, told) != changed or batch != expected:
            return False
    return True


# -- examples -----------------------------------------------------------------------------------

def test_flow_documents_match_only_when_an_address_is_listed(processor: RecordProcessor) -> None:
    intel = intel_from("198.51.100.7", "2001:db8:bad::/48", "203.0.113.0/24")
    hit_src, hit_net, hit_v6, miss, same = flow_docs(
        processor, ("198.51.100.7", "10.0.0.1"), ("10.0.0.1", "203.0.113.99"), ("2001:db8:bad::1", "2001:db8::2"),
        ("10.0.0.1", "198.51.100.8"), ("198.51.100.7", "198.51.100.7"))
    assert [intel.might_match(d) for d in (hit_src, hit_net, hit_v6, miss, same)] == [True, True, True, False, True]


def test_cloudtrail_documents_by_address_and_by_host_name(processor: RecordProcessor) -> None:
    intel = intel_from("198.51.100.7", "evil.example")
    by_ip, by_host, by_service, clean = trail_docs(
        processor, trail_record("198.51.100.7"), trail_record("192.0.2.1", host="x.evil.example"),
        trail_record("ec2.evil.example"), trail_record("192.0.2.1", host="sts.amazonaws.com"))
    assert [intel.might_match(d) for d in (by_ip, by_host, by_service, clean)] == [True, True, True, False]


def test_look_alikes_nested_in_request_parameters_do_not_hide_the_real_source(processor: RecordProcessor) -> None:
    intel = intel_from("198.51.100.7")
    decoy = {"related": {"ip": ["192.0.2.1"]}, "ip": "192.0.2.2", "source": {"ip": "192.0.2.3"}}
    (doc,) = trail_docs(processor, trail_record("198.51.100.7", requestParameters=decoy))
    assert decoy_first(doc)
    assert intel.might_match(doc)


def decoy_first(encoded: bytes) -> bool:
    """The nested ``related`` comes before the real one in the bytes (what the test is about)."""
    return encoded.count(b'"related":') == 2


def test_flow_documents_skip_the_host_name_scan_but_cloudtrail_does_not(processor: RecordProcessor) -> None:
    intel = intel_from("evil.example")
    (flow,) = flow_docs(processor, ("10.0.0.1", "10.0.0.2"))
    assert intel.might_match(flow) is False
    (trail,) = trail_docs(processor, trail_record("10.0.0.1", host="evil.example"))
    assert intel.might_match(trail) is True


def test_addresses_only_in_arrays_are_found_in_any_position() -> None:
    intel = intel_from("198.51.100.7")
    in_arrays = {"host": {"ip": ["10.0.0.1", "198.51.100.7"]},
                 "related": {"ip": ["10.0.0.1", "198.51.100.7"], "user": ["alice"]}}
    three_at_the_end = {"source": {"ip": "10.0.0.1"}, "related": {"ip": ["10.0.0.1", "10.0.0.2", "198.51.100.7"]}}
    one_at_the_end = {"client": {"ip": "198.51.100.7"}, "related": {"ip": ["198.51.100.7"]}}
    for doc in (in_arrays, three_at_the_end, one_at_the_end):
        assert intel.might_match(orjson.dumps(doc)) is True
        assert intel.enrich(doc) is True


def test_batches_decide_right_once_addresses_are_cached(processor: RecordProcessor) -> None:
    intel = intel_from("198.51.100.7", "evil.example")
    first = flow_docs(processor, ("10.0.0.1", "10.0.0.2"), ("10.0.0.3", "10.0.0.4"))
    assert intel.enrich_encoded(first) == 0  # 10.0.0.1 to .4 are now known not to be listed
    later = flow_docs(processor, ("10.0.0.1", "198.51.100.7"), ("198.51.100.7", "10.0.0.4"), ("10.0.0.3", "10.0.0.2"))
    assert intel.enrich_encoded(list(later)) == 2
    assert intel.enrich_encoded(later, "aws.vpcflow") == 2
    # Not a flow document, ending like one, with a listed host name and unlisted addresses.
    trail_like = orjson.dumps({"event": {"dataset": "aws.cloudtrail"},
                               "tls": {"client": {"server_name": "evil.example"}},
                               "source": {"ip": "10.0.0.1"}, "related": {"ip": ["10.0.0.1", "10.0.0.2"]}})
    assert intel.might_match(trail_like) is True
    batch = [trail_like]
    assert intel.enrich_encoded(batch) == 1
    assert orjson.loads(batch[0])["threat"]["enrichments"][0]["matched"]["field"] == "tls.client.server_name"


def test_documents_without_addresses_are_ruled_out() -> None:
    intel = intel_from("198.51.100.7", "10.0.0.0/8")
    docs: list[dict[str, Any]] = [{"event": {"kind": "event"}}, {"related": {"ip": []}},
                                  {"source": {"address": "ec2.amazonaws.com"}}, {"related": {"ip": ["not an address"]}}]
    for doc in docs:
        assert intel.might_match(orjson.dumps(doc)) is False


# -- properties ---------------------------------------------------------------------------------

LISTED_V4 = [f"198.51.100.{n}" for n in range(0, 256, 37)]
DOMAINS = ["evil.example", "c2.evil.example", "amazonaws.com", "bad.test", "x.y.bad.test"]
any_v4 = st.ip_addresses(v=4).map(str)
any_v6 = st.ip_addresses(v=6).map(str)
address = st.one_of(st.sampled_from(LISTED_V4), any_v4, any_v6,
                    st.sampled_from(["2001:db8::1", "2001:db8:0:1::5", "::ffff:198.51.100.37", "2001:DB8::1"]))
host = st.one_of(st.sampled_from(DOMAINS), st.sampled_from(DOMAINS).map(lambda d: "www." + d.upper()),
                 st.from_regex(r"[a-z]{1,8}\.(example|test|com)", fullmatch=True))


def _network(pair: tuple[str, int]) -> str:
    return str(ipaddress.ip_network(f"{pair[0]}/{min(pair[1], ipaddress.ip_address(pair[0]).max_prefixlen)}",
                                    strict=False))


feed_lines = st.lists(st.one_of(
    address, st.tuples(st.one_of(st.sampled_from(LISTED_V4), any_v4), st.integers(8, 32)).map(_network),
    st.tuples(any_v6, st.integers(16, 128)).map(_network), st.sampled_from(DOMAINS)), min_size=1, max_size=12)


@given(feed=feed_lines, pairs=st.lists(st.tuples(address, address), min_size=1, max_size=6))
def test_property_flow_documents(processor: RecordProcessor, feed: list[str], pairs: list[tuple[str, str]]) -> None:
    intel = intel_from(*feed)
    docs = flow_docs(processor, *pairs)
    for encoded in docs:
        assert agrees(intel, encoded), encoded
    assert batch_agrees(intel_from(*feed), docs, "aws.vpcflow")


@given(feed=feed_lines, records=st.lists(st.tuples(st.one_of(address, host), st.none() | host, address),
                                         min_size=1, max_size=4))
def test_property_cloudtrail_documents(processor: RecordProcessor, feed: list[str],
                                       records: list[tuple[str, str | None, str]]) -> None:
    intel = intel_from(*feed)
    built = [trail_record(source, host=tls, requestParameters={"related": {"ip": [decoy]}, "ip": decoy})
             for source, tls, decoy in records]
    docs = trail_docs(processor, *built)
    for encoded in docs:
        assert agrees(intel, encoded), encoded
    assert batch_agrees(intel_from(*feed), docs, "aws.cloudtrail")


ip_parent = st.sampled_from(["source", "destination", "client", "server"])


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Documents as this code base writes them (every address also in ``related.ip``), keys in any
    order, with nested look-alikes; flow datasets carry no host names."""
    doc: dict[str, Any] = {}
    addresses: list[str] = []
    for parent in draw(st.lists(ip_parent, unique=True, max_size=4)):
        side: dict[str, Any] = {"ip": draw(address)}
        addresses.append(side["ip"])
        if draw(st.booleans()):
            side["address"] = side["ip"]
        doc[parent] = side
    if draw(st.booleans()):
        doc["host"] = {"ip": draw(st.lists(address, max_size=3))}
        addresses.extend(doc["host"]["ip"])
    flow = draw(st.booleans())
    if not flow:
        for parent, leaf in draw(st.lists(st.sampled_from([("source", "address"), ("source", "domain"),
                                                           ("destination", "domain"), ("url", "domain")]),
                                          max_size=3)):
            doc.setdefault(parent, {})[leaf] = draw(host)
        if draw(st.booleans()):
            doc["tls"] = {"client": {"server_name": draw(host)}}
    doc["aws"] = {"cloudtrail": {"flattened": {"request_parameters": {
        "related": {"ip": draw(st.lists(address, max_size=2))}, "ip": draw(address),
        "address": draw(host), "nested": [{"ip": draw(address)}]}}}} if not flow else {"vpcflow": {"version": "2"}}
    unique = list(dict.fromkeys(addresses))
    if unique:
        doc["related"] = {"ip": unique} if draw(st.booleans()) else {"user": ["alice"], "ip": unique}
    order = draw(st.permutations(list(doc)))
    event = {"kind": "event", "category": ["network"], "dataset": "aws.vpcflow" if flow else "aws.cloudtrail"}
    return {"event": event, **{key: doc[key] for key in order}}


@given(feed=feed_lines, doc=documents())
def test_property_any_field_order_and_nesting(feed: list[str], doc: dict[str, Any]) -> None:
    assert agrees(intel_from(*feed), orjson.dumps(doc))
    assert batch_agrees(intel_from(*feed), [orjson.dumps(doc)], doc["event"]["dataset"])
