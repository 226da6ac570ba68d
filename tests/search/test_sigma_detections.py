"""The bundled Sigma rules, converted through the connector's pipeline, find in real Elasticsearch
and OpenSearch exactly the CloudTrail records that match them in the raw demo files."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.demo.generator import DemoManifest
from connector.detections import convert
from tests.servers.search_cluster import SearchCluster, http_json

pytestmark = pytest.mark.integration
NAMESPACE = "sigma"
Record = dict[str, Any]


def _login(record: Record, outcome: str) -> bool:
    return record["eventName"] == "ConsoleLogin" and (record.get("responseElements") or {}).get(
        "ConsoleLogin") == outcome


# Each bundled rule's meaning, written again over the raw CloudTrail records.
TRUTH: dict[str, Callable[[Record], bool]] = {
    "AWS CloudTrail Logging Stopped or Trail Deleted": lambda r: (
        r["eventSource"] == "cloudtrail.amazonaws.com" and r["eventName"] in ("StopLogging", "DeleteTrail")),
    "AWS Root Account Console Login": lambda r: (
        r["eventName"] == "ConsoleLogin" and r["userIdentity"].get("type") == "Root"),
    "AWS Console Login Failure": lambda r: _login(r, "Failure"),
    "AWS Console Login Without MFA": lambda r: (
        _login(r, "Success") and (r.get("additionalEventData") or {}).get("MFAUsed") == "No"),
    "AWS Unauthorized API Calls": lambda r: (
        str(r.get("errorCode", "")).startswith("AccessDenied")
        or str(r.get("errorCode", "")).endswith("UnauthorizedOperation")),
}


def _raw_records(files: list[Path]) -> list[Record]:
    records: list[Record] = []
    for path in files:
        records += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return records


def _console_logins_without_mfa(records: list[Record], tmp_path: Path) -> Path:
    """The demo day has no successful sign-in without MFA: a trail file with two sign-ins of its
    own, made from one of the day's successful ones, the first without MFA."""
    login = next(r for r in records if _login(r, "Success") and r["userIdentity"].get("type") == "IAMUser")
    extra = []
    for n, mfa in enumerate(("No", "Yes")):
        record = copy.deepcopy(login)
        record["eventID"] = f"00000000-0000-4000-8000-00000000000{n}"
        record["additionalEventData"]["MFAUsed"] = mfa
        extra.append(record)
    path = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "27"
    path.mkdir(parents=True)
    path /= "111122223333_CloudTrail_us-east-1_20261127T2355Z_extra.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": extra}).encode()))
    return path


def test_bundled_rules_find_exactly_the_matching_records(
    deployed: tuple[SearchCluster, list[str], list[str]], demo_estate: tuple[Path, DemoManifest], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cluster = deployed[0]
    root, manifest = demo_estate
    config = tmp_path / "connector.yaml"
    config.write_text(f"{cluster.kind}:\n  namespace: {NAMESPACE}\n")
    files = [root.joinpath(*key.split("/")) for key in manifest.cloudtrail_files]
    files.append(_console_logins_without_mfa(_raw_records(files), tmp_path))
    sources = [arg for path in files for arg in ("--source", str(path))]
    flag = "--es-url" if cluster.kind == "elasticsearch" else "--opensearch-url"
    assert main(["backfill", *sources, "--sink", cluster.kind, flag, cluster.url, "--config", str(config)]) == 0
    assert "dead-lettered 0" in capsys.readouterr().err
    stream = f"logs-aws_connector.cloudtrail-{NAMESPACE}"
    http_json("POST", f"{cluster.url}/{stream}/_refresh")

    records = _raw_records(files)
    truth = {title: sum(1 for r in records if matches(r)) for title, matches in TRUTH.items()}
    # The generator's own bookkeeping agrees, and no rule is checked against nothing.
    assert truth["AWS Root Account Console Login"] == manifest.root_console_logins > 0
    assert truth["AWS Console Login Failure"] == sum(manifest.console_login_failures.values()) > 0
    assert truth["AWS CloudTrail Logging Stopped or Trail Deleted"] >= manifest.stop_logging_events > 0
    assert all(count > 0 for count in truth.values()), truth

    detections = convert("lucene")
    assert sorted(d.title for d in detections) == sorted(TRUTH)
    found = {}
    for detection in detections:
        body = {"query": {"query_string": {"query": detection.query}}}
        result = http_json("POST", f"{cluster.url}/{stream}/_count", body)
        assert isinstance(result, dict) and "count" in result, (detection.query, result)
        found[detection.title] = result["count"]
    assert found == truth


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("splunk", 'event.dataset="aws.cloudtrail" event.action="ConsoleLogin"'
                   ' aws.cloudtrail.user_identity.type="Root"'),
        ("esql", "from logs-aws_connector.cloudtrail-* metadata _id, _index, _version"
                 ' | where event.dataset=="aws.cloudtrail" and event.action=="ConsoleLogin"'
                 ' and aws.cloudtrail.user_identity.type=="Root"'),
        ("eql", 'any where event.dataset:"aws.cloudtrail" and (event.action:"ConsoleLogin" and'
                ' aws.cloudtrail.user_identity.type:"Root")'),
    ],
)
def test_other_query_languages_use_the_same_fields(backend: str, expected: str) -> None:
    by_title = {d.title: d.query for d in convert(backend)}
    assert by_title["AWS Root Account Console Login"] == expected
