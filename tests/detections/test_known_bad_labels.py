"""The threat-intel detection's labels (worked out from the raw demo files and the feed's text) agree
with what the connector marks when it runs the demo day with the demo's feed, and everything the
marking writes is mapped by the index templates, so the dashboards and rules can read it. Without
a server: the search tests then run the content itself on the same day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.demo.estate import DemoManifest
from connector.detections import handwritten
from connector.detections.catalogue import catalogue
from tests.detections.known_bad_labels import FEED, FEED_NAME, KNOWN_BAD_ADDRESS, known_bad_label, read_plain_feed


def threat_intel_config(folder: Path) -> Path:
    """A configuration file with the demo's feed as the only threat-intel feed."""
    config = folder / "threat-intel.yaml"
    config.write_text(f"threat_intel:\n  feeds:\n    - name: {FEED_NAME}\n      path: {FEED}\n      format: plain\n")
    return config


@pytest.fixture(scope="module")
def marked_day(demo_estate: tuple[Path, DemoManifest], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo day normalized with the demo's feed, as NDJSON per dataset."""
    folder = tmp_path_factory.mktemp("marked")
    out = folder / "out"
    code = main(["backfill", "--source", str(demo_estate[0]), "--sink", "file", "--out", str(out),
                 "--config", str(threat_intel_config(folder)), "--no-progress"])
    assert code == 0
    return out


def _documents(out: Path, dataset: str) -> list[dict[str, Any]]:
    with (out / f"{dataset}.ndjson").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _leaf_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for key, item in value.items() for p in _leaf_paths(item, f"{prefix}{key}.")}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return {p for item in value for p in _leaf_paths(item, prefix)}
    return {prefix[:-1]}


def test_the_detection_is_bundled_over_flows_and_api_calls() -> None:
    (hand,) = [h for h in handwritten() if h.rule_id == KNOWN_BAD_ADDRESS]
    assert hand.datasets == ("aws.vpcflow", "aws.cloudtrail")
    assert hand.new_terms is None and hand.level == "high"
    assert "_exists_:threat.enrichments.matched.atomic" in hand.base_query


def test_the_feed_lists_the_demo_attackers_and_entries_the_day_never_shows(
    demo_estate: tuple[Path, DemoManifest],
) -> None:
    feed = read_plain_feed()
    manifest = demo_estate[1]
    assert all(feed.lists_address(source) for source in manifest.brute_force_sources)
    assert feed.domains and any(n.version == 6 for n in feed.networks)
    label = known_bad_label(manifest, feed)
    assert label.expected and label.benign and not label.expected & label.benign


def test_labels_equal_the_events_the_connector_marks(demo_estate: tuple[Path, DemoManifest], marked_day: Path) -> None:
    label = known_bad_label(demo_estate[1])
    marked: dict[str, set[str]] = {}
    for dataset in ("aws.vpcflow", "aws.cloudtrail", "aws.config"):
        marked[dataset] = {doc["event"]["id"] for doc in _documents(marked_day, dataset) if "threat" in doc}
    assert marked["aws.config"] == set()
    assert marked["aws.vpcflow"] and marked["aws.cloudtrail"]
    assert marked["aws.vpcflow"] | marked["aws.cloudtrail"] == label.expected


def test_each_mark_names_the_feed_the_field_and_the_address(marked_day: Path) -> None:
    feed = read_plain_feed()
    for dataset in ("aws.vpcflow", "aws.cloudtrail"):
        for doc in _documents(marked_day, dataset):
            if "threat" not in doc:
                continue
            assert doc["tags"] == ["threat-intel-match"] and doc["event"]["severity"] == 73
            for entry in doc["threat"]["enrichments"]:
                matched = entry["matched"]
                assert matched["field"] in ("source.ip", "destination.ip"), matched
                assert feed.lists_address(matched["atomic"]), matched
                assert matched["atomic"] == doc[matched["field"].split(".")[0]]["ip"]
                assert entry["feed"]["name"] == entry["indicator"]["provider"] == FEED_NAME
                assert entry["indicator"]["ip"] == matched["atomic"]


@pytest.mark.parametrize("dataset", ["aws.vpcflow", "aws.cloudtrail"])
def test_every_field_the_marking_writes_is_mapped(dataset: str, marked_day: Path) -> None:
    fields = catalogue(dataset)
    written: set[str] = set()
    for doc in _documents(marked_day, dataset):
        if "threat" in doc:
            written |= _leaf_paths({"threat": doc["threat"], "event": {"severity": doc["event"]["severity"]},
                                    "tags": doc["tags"]})
    assert {"threat.enrichments.matched.atomic", "event.severity", "tags"} <= written
    # Explicitly, not by the dynamic template: an address must be an ip, a date a date.
    assert sorted(written - set(fields.types)) == []
    assert fields.type_of("threat.enrichments.indicator.ip") == "ip"
    assert fields.type_of("threat.enrichments.indicator.first_seen") == "date"
    assert fields.type_of("event.severity") == "long"
