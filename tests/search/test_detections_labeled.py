"""Every bundled detection on the demo's labeled day, in real Elasticsearch and OpenSearch: each
finds all its true positives and none of the benign look-alikes.

The Lucene form of each rule runs as the SIEM runs it (``query_string``); a counting rule runs as
its base query plus the same threshold through an aggregation, since the test distributions have
no ES|QL; the hand-written "new country" detection runs as first-seen times per value pair, as
Elastic Security's new-terms rule does, and the hand-written threat-intel match as a query over
the data streams of both its datasets. The summary prints the table.
"""

from __future__ import annotations

import pytest

from connector.demo.estate import DemoManifest
from connector.detections import convert, handwritten
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


def _index(*datasets: str) -> str:
    return ",".join(f"logs-aws_connector.{dataset.removeprefix('aws.')}-{LABELED}" for dataset in datasets)


def test_every_detection_finds_its_labeled_events_and_nothing_benign(
    labeled_day: tuple[SearchCluster, DemoManifest], report: Report,
) -> None:
    cluster, manifest = labeled_day
    rows = []
    detections = convert("lucene").detections
    assert len(detections) + len(handwritten()) >= 20
    unlabeled = [d.title for d in detections if d.rule_id not in manifest.labels]
    assert not unlabeled, f"the demo does not label: {unlabeled}"
    for detection in detections:
        label = manifest.labels[detection.rule_id]
        index = _index(detection.dataset)
        if detection.threshold is None:
            found = single_event_findings(cluster.url, index, detection.query, label.field)
        else:
            found = threshold_findings(cluster.url, index, detection.query, detection.threshold, label.field)
        rows.append((detection.title, label, found))
    for hand in handwritten():
        label = manifest.labels[hand.rule_id]
        index = _index(*hand.datasets)
        if hand.new_terms is None:
            found = single_event_findings(cluster.url, index, hand.base_query, label.field)
        else:
            found = new_terms_findings(cluster.url, index, hand, label.field)
        rows.append((hand.title, label, found))

    check_against_labels(report, f"detections on the labeled demo day ({cluster.kind} {cluster.version})", rows)
