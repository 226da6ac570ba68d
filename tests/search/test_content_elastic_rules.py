"""Every generated Elastic Security rule, run on the demo's labeled day in real Elasticsearch and
OpenSearch from what the rule itself says: its Lucene query on its index pattern, its threshold
(groups, count or distinct count, over its search window) and its new-terms fields. Each finds
exactly the values its detection is labeled with. The summary prints the table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from connector.content.elastic_rules import detection_rules
from connector.demo.estate import DemoManifest
from connector.detections import HandwrittenDetection, NewTerms, Threshold
from tests.conftest import Report
from tests.search.conftest import LABELED
from tests.search.detection_runner import (
    check_against_labels,
    new_terms_findings,
    single_event_findings,
    threshold_findings,
)
from tests.servers.search_cluster import SearchCluster

pytestmark = pytest.mark.integration

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _index(rule: dict[str, Any]) -> str:
    """The rule's index patterns narrowed to the labeled namespace, as one search target."""
    assert rule["index"] and all(pattern.endswith("-*") for pattern in rule["index"]), rule["index"]
    return ",".join(pattern[:-1] + LABELED for pattern in rule["index"])


def _seconds_ago(date_math: str) -> int:
    if date_math == "now":
        return 0
    matched = re.fullmatch(r"now-(\d+)([smhd])", date_math)
    assert matched, date_math
    return int(matched.group(1)) * _SECONDS[matched.group(2)]


def _threshold(rule: dict[str, Any]) -> Threshold:
    """The rule's threshold as the runner applies it: per group, at least the value (or that many
    distinct values), in windows as long as each run's search window."""
    body = rule["threshold"]
    window = _seconds_ago(rule["from"]) - _seconds_ago(rule["to"])
    assert _seconds_ago(f"now-{rule['interval']}") == window, "runs must tile time: interval = window"
    if "cardinality" in body:
        (distinct,) = body["cardinality"]
        return Threshold("value_count", tuple(body["field"]), f"{window}s", "gte", distinct["value"],
                         distinct["field"])
    return Threshold("event_count", tuple(body["field"]), f"{window}s", "gte", body["value"])


def _new_terms(rule: dict[str, Any]) -> HandwrittenDetection:
    """The rule as the runner's new-terms input: its query and its fields."""
    return HandwrittenDetection(
        rule_id=rule["rule_id"], title=rule["name"], level=rule["severity"], datasets=(),
        description=rule["description"], why_not_sigma="", tags=tuple(rule["tags"]), base_query=rule["query"],
        new_terms=NewTerms(tuple(rule["new_terms_fields"]), rule["history_window_start"].removeprefix("now-")),
        splunk="", splunk_earliest="")


def _findings(url: str, rule: dict[str, Any], field: str) -> set[str]:
    if rule["type"] == "query":
        return single_event_findings(url, _index(rule), rule["query"], field)
    if rule["type"] == "threshold":
        return threshold_findings(url, _index(rule), rule["query"], _threshold(rule), field)
    assert rule["type"] == "new_terms", rule["type"]
    return new_terms_findings(url, _index(rule), _new_terms(rule), field)


def test_every_elastic_rule_finds_exactly_its_labeled_events(
    labeled_day: tuple[SearchCluster, DemoManifest], report: Report,
) -> None:
    cluster, manifest = labeled_day
    rules = detection_rules()
    unlabeled = [rule["name"] for rule in rules if rule["rule_id"] not in manifest.labels]
    assert not unlabeled, f"the demo does not label: {unlabeled}"

    rows = []
    for rule in rules:
        label = manifest.labels[rule["rule_id"]]
        rows.append((f"{rule['name'][:46]} ({rule['type']})", label, _findings(cluster.url, rule, label.field)))
    section = f"Elastic Security rules on the labeled demo day ({cluster.kind} {cluster.version})"
    check_against_labels(report, section, rows)
