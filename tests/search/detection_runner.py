"""Runs a converted detection against a real Elasticsearch or OpenSearch the way the SIEM would:
a single-event rule as a ``query_string`` search, a counting rule as its base query plus the same
threshold through an aggregation (time buckets per group, then the count), and a "new terms"
detection as first-seen times per value pair."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from connector.demo.labels import DetectionLabel
from connector.detections import HandwrittenDetection, Threshold
from tests.conftest import Report
from tests.servers.search_cluster import http_json

_COMPARE = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b, "eq": lambda a, b: a == b}


def _search(url: str, index: str, body: dict[str, Any]) -> dict[str, Any]:
    result = http_json("POST", f"{url}/{index}/_search", body)
    assert isinstance(result, dict) and "error" not in result, result
    return result


def _composite(url: str, index: str, query: str, sources: list[dict[str, Any]],
               sub: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every bucket of a composite aggregation, page by page."""
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": 1000, "sources": sources}
        if after:
            composite["after"] = after
        agg: dict[str, Any] = {"composite": composite}
        if sub:
            agg["aggs"] = sub
        body = {"size": 0, "query": {"query_string": {"query": query}}, "aggs": {"groups": agg}}
        groups = _search(url, index, body)["aggregations"]["groups"]
        yield from groups["buckets"]
        after = groups.get("after_key")
        if not groups["buckets"] or after is None:
            return


def hits(url: str, index: str, query: str) -> int:
    """How many documents ``query`` matches."""
    result = http_json("POST", f"{url}/{index}/_count", {"query": {"query_string": {"query": query}}})
    assert isinstance(result, dict) and "count" in result, (query, result)
    return int(result["count"])


def single_event_findings(url: str, index: str, query: str, field: str) -> set[str]:
    """The values of ``field`` over every document ``query`` matches."""
    return {str(b["key"][field]) for b in _composite(url, index, query, [{field: {"terms": {"field": field}}}])}


def threshold_findings(url: str, index: str, query: str, threshold: Threshold, field: str) -> set[str]:
    """The values of ``field`` in every group whose count in one time bucket crosses the threshold:
    fixed time buckets of the rule's timespan (ES|QL's date_trunc, Splunk's bin), per group."""
    sources: list[dict[str, Any]] = [{"bucket": {"date_histogram": {"field": "@timestamp",
                                                                      "fixed_interval": threshold.timespan}}}]
    sources += [{name: {"terms": {"field": name}}} for name in threshold.group_by]
    sub = None
    if threshold.kind == "value_count":
        sub = {"distinct": {"cardinality": {"field": threshold.field, "precision_threshold": 40000}}}
    passes = _COMPARE[threshold.operator]
    found = set()
    for bucket in _composite(url, index, query, sources, sub):
        measure = bucket["doc_count"] if sub is None else bucket["distinct"]["value"]
        if passes(measure, threshold.count):
            found.add(str(bucket["key"][field]))
    return found


def new_terms_findings(url: str, index: str, detection: HandwrittenDetection, field: str) -> set[str]:
    """The values of ``field`` in every value pair first seen after the group's first event (the
    group being the first of the new-terms fields, e.g. the user)."""
    assert detection.new_terms is not None
    fields = detection.new_terms.fields
    sources = [{name: {"terms": {"field": name}}} for name in fields]
    sub = {"first_seen": {"min": {"field": "@timestamp"}}}
    first: dict[tuple[str, ...], float] = {}
    for bucket in _composite(url, index, detection.base_query, sources, sub):
        first[tuple(str(bucket["key"][name]) for name in fields)] = bucket["first_seen"]["value"]
    group_first: dict[str, float] = {}
    for key, seen in first.items():
        group_first[key[0]] = min(seen, group_first.get(key[0], seen))
    position = fields.index(field)
    return {key[position] for key, seen in first.items() if seen > group_first[key[0]]}


def check_against_labels(report: Report, section: str, rows: Iterable[tuple[str, DetectionLabel, set[str]]]) -> None:
    """One table line per detection (title, labeled field, values expected, found, missed, false
    positives, benign look-alikes) under ``section``; then fail naming every detection that missed a
    labeled value or reported one it must not."""
    report.add(section, f"{'detection':<58} {'field':<10} {'expected':>8} {'found':>6} {'missed':>6} "
                        f"{'false+':>6} {'benign':>6}")
    failures = []
    for title, label, found in rows:
        missed, extra = label.expected - found, found - label.expected
        report.add(section, f"{title[:58]:<58} {label.field:<10} {len(label.expected):>8} {len(found):>6} "
                            f"{len(missed):>6} {len(extra):>6} {len(label.benign):>6}")
        assert label.expected, f"{title}: no true positive planted"
        if missed or extra:
            failures.append(f"{title}: missed {sorted(missed)[:5]}, false positives {sorted(extra)[:5]}")
    assert not failures, "\n".join(failures)
