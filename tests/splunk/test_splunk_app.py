"""The bundled Splunk app: splunk-appinspect passes, its alerts are the bundled Sigma rules, and
every field its CIM aliases read is a field the connector writes."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from connector.cli import main
from connector.detections import convert, handwritten, splunk_saved_searches
from connector.detections.pipeline import allow_lists

APP = Path(__file__).resolve().parents[2] / "deploy" / "splunk" / "aws_siem_connector"
SOURCETYPE_DATASET = {"aws:connector:vpcflow": "vpcflow", "aws:connector:cloudtrail": "cloudtrail",
                      "aws:connector:config": "config"}


def _conf(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(APP / "default" / name, encoding="utf-8")
    return parser


def test_appinspect_finds_no_failure_or_error(tmp_path: Path) -> None:
    report = tmp_path / "appinspect.json"
    tool = Path(sys.executable).with_name("splunk-appinspect")
    done = subprocess.run([str(tool), "inspect", str(APP), "--mode", "precert", "--data-format", "json",
                           "--output-file", str(report)], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(report.read_text())["summary"]
    assert summary["failure"] == summary["error"] == 0, done.stdout[-3000:]
    assert summary["success"] > 50


def test_alerts_are_the_bundled_sigma_rules_and_hand_written_detections(capsys: pytest.CaptureFixture[str]) -> None:
    committed = (APP / "default" / "savedsearches.conf").read_text()
    detections = convert("splunk").detections
    assert committed == splunk_saved_searches(detections, handwritten())
    assert main(["content", "sigma", "--backend", "splunk", "--format", "savedsearches"]) == 0
    assert capsys.readouterr().out == committed
    searches = _conf("savedsearches.conf")
    assert sorted(searches.sections()) == sorted([d.title for d in detections] + [h.title for h in handwritten()])
    assert len(searches.sections()) >= 20
    for detection in detections:
        stanza = searches[detection.title]
        sourcetype = {"aws.cloudtrail": "cloudtrail", "aws.vpcflow": "vpcflow"}[detection.dataset]
        assert stanza["search"].startswith(f'`aws_connector_index` sourcetype="aws:connector:{sourcetype}" ')
        assert (stanza["disabled"], stanza["enableSched"], stanza["cron_schedule"]) == ("1", "1", "*/5 * * * *")
        if detection.threshold is not None:  # counting rules: stats over time buckets, in one line
            assert f"| bin _time span={detection.threshold.timespan} | stats " in stanza["search"]
    for hand in handwritten():
        assert searches[hand.title]["search"] == hand.splunk
        assert searches[hand.title]["dispatch.earliest_time"] == hand.splunk_earliest


def test_macros_hold_the_index_and_the_allow_lists(capsys: pytest.CaptureFixture[str]) -> None:
    committed = (APP / "default" / "macros.conf").read_text()
    assert main(["content", "sigma", "--backend", "splunk", "--format", "macros"]) == 0
    assert capsys.readouterr().out == committed
    macros = _conf("macros.conf")
    assert macros["aws_connector_index"]["definition"] == "index=*"
    allowed = macros["aws_connector_allowed_countries"]["definition"]
    assert allowed == "source.geo.country_iso_code IN (" + ", ".join(
        f'"{c}"' for c in allow_lists()["allowed_countries"]) + ")"
    # The alert that reads it names the macro, not a copy of the list.
    searches = _conf("savedsearches.conf")
    assert any("NOT `aws_connector_allowed_countries`" in searches[t]["search"] for t in searches.sections())


def test_dashboards_are_valid_simple_xml_over_the_macro() -> None:
    views = sorted((APP / "default" / "data" / "ui" / "views").glob("*.xml"))
    assert views
    for view in views:
        root = ET.parse(view).getroot()
        assert root.tag in ("form", "dashboard") and root.get("version") == "1.1"
        queries = [q.text or "" for q in root.iter("query")]
        assert queries and all(q.startswith("`aws_connector_index` sourcetype=\"aws:connector:") for q in queries)
        assert sum(1 for _ in root.iter("map")) >= 2  # the geo maps
    ET.parse(APP / "default" / "data" / "ui" / "nav" / "default.xml")


def _leaf_paths(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}{k}.")}
    return {prefix[:-1]}


def test_cim_aliases_read_fields_the_connector_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out)]) == 0
    capsys.readouterr()
    fields: dict[str, set[str]] = {}
    for dataset in SOURCETYPE_DATASET.values():
        paths: set[str] = set()
        for line in (out / f"aws.{dataset}.ndjson").read_text().splitlines():
            paths |= _leaf_paths(json.loads(line))
        fields[dataset] = paths
    props = _conf("props.conf")
    assert sorted(props.sections()) == sorted(SOURCETYPE_DATASET)
    for sourcetype, dataset in SOURCETYPE_DATASET.items():
        read: set[str] = set()
        for key, value in props[sourcetype].items():
            if key.startswith("FIELDALIAS-"):
                read |= set(re.findall(r"(\S+) AS \S+", value))
            elif key.startswith("EVAL-"):
                read |= set(re.findall(r"'([^']+)'", value))
        assert read, sourcetype
        assert read <= fields[dataset], (sourcetype, sorted(read - fields[dataset]))
