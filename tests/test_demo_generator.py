"""The demo dataset must look like what AWS delivers and agree with its own manifest."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector.demo.estate import DemoManifest, generate_estate

ACCT = r"\d{12}"
REGION = r"[a-z]{2}-[a-z]+-\d"
YMD = r"\d{4}/\d{2}/\d{2}"
KEY_PATTERNS = {
    "flow": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/vpcflowlogs/(?P<r>{REGION})/{YMD}/"
        rf"(?P=a)_vpcflowlogs_(?P=r)_fl-[0-9a-f]{{17}}_\d{{8}}T\d{{4}}Z_[0-9a-f]{{8}}\.log\.gz"
    ),
    "cloudtrail": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/CloudTrail/(?P<r>{REGION})/{YMD}/"
        rf"(?P=a)_CloudTrail_(?P=r)_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
    ),
    "insight": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/CloudTrail-Insight/(?P<r>{REGION})/{YMD}/"
        rf"(?P=a)_CloudTrail-Insight_(?P=r)_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
    ),
    "digest": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/CloudTrail-Digest/(?P<r>{REGION})/{YMD}/"
        rf"(?P=a)_CloudTrail-Digest_(?P=r)_[\w-]+_(?P=r)_\d{{8}}T\d{{6}}Z\.json\.gz"
    ),
    "config_history": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/Config/(?P<r>{REGION})/\d{{4}}/[1-9]\d?/[1-9]\d?/ConfigHistory/"
        rf"(?P=a)_Config_(?P=r)_ConfigHistory_AWS::\w+::\w+_\d{{8}}T\d{{6}}Z_\d{{8}}T\d{{6}}Z_1\.json\.gz"
    ),
    "config_snapshot": re.compile(
        rf"AWSLogs/(?P<a>{ACCT})/Config/(?P<r>{REGION})/\d{{4}}/[1-9]\d?/[1-9]\d?/ConfigSnapshot/"
        rf"(?P=a)_Config_(?P=r)_ConfigSnapshot_\d{{8}}T\d{{6}}Z_[0-9a-f-]{{36}}\.json\.gz"
    ),
    "writability": re.compile(rf"AWSLogs/{ACCT}/Config/ConfigWritabilityCheckFile"),
    "notification": re.compile(r"sqs-notifications/[\w.-]+\.json"),
}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_estate(tmp_path_factory.mktemp("bucket"))


def _kind(key: str) -> str:
    kinds = [name for name, pattern in KEY_PATTERNS.items() if pattern.fullmatch(key)]
    assert len(kinds) == 1, (key, kinds)
    return kinds[0]


def _json(m: DemoManifest, key: str) -> Any:
    return json.loads(gzip.decompress((m.root / key).read_bytes()))


def _trail_records(m: DemoManifest) -> list[dict[str, Any]]:
    return [r for key in m.keys if _kind(key) == "cloudtrail" for r in _json(m, key)["Records"]]


def _config_items(m: DemoManifest) -> list[dict[str, Any]]:
    return [
        item
        for key in m.keys
        if _kind(key) in ("config_history", "config_snapshot")
        for item in _json(m, key)["configurationItems"]
    ]


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate_estate(tmp_path / "a")
    second = generate_estate(tmp_path / "b")
    assert first.keys == second.keys
    for key in first.keys:
        assert (first.root / key).read_bytes() == (second.root / key).read_bytes(), key
    files = sorted(p.relative_to(first.root).as_posix() for p in first.root.rglob("*") if p.is_file())
    assert files == list(first.keys)


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    assert generate_estate(tmp_path / "a", seed=8).keys != generate_estate(tmp_path / "b").keys


def test_every_key_follows_its_aws_layout(estate: DemoManifest) -> None:
    kinds = Counter(_kind(key) for key in estate.keys)
    assert kinds["digest"] == 1
    assert kinds["writability"] == 1
    assert kinds["insight"] == 1
    assert kinds["config_snapshot"] == 1
    assert kinds["notification"] == 2
    assert kinds["flow"] == len(estate.flow_log_files)
    assert kinds["cloudtrail"] == len(estate.cloudtrail_files)
    assert set(estate.skipped_by_rule) == {k for k in estate.keys if _kind(k) in ("digest", "writability")}


def test_config_prefix_is_not_zero_padded(tmp_path: Path) -> None:
    m = generate_estate(tmp_path, day=dt.date(2026, 3, 5))
    assert any(k.startswith("AWSLogs/111122223333/Config/us-east-1/2026/3/5/ConfigHistory/") for k in m.keys)
    assert any("/vpcflowlogs/us-east-1/2026/03/05/" in k for k in m.keys)
    assert any("/CloudTrail/us-east-1/2026/03/05/" in k for k in m.keys)


def test_flow_files_have_a_header_and_matching_field_counts(estate: DemoManifest) -> None:
    headers = set()
    for key in estate.flow_log_files:
        lines = gzip.decompress((estate.root / key).read_bytes()).decode().splitlines()
        header = lines[0].split()
        headers.add(tuple(header))
        assert header[0] == "version" and "log-status" in header
        stamp = dt.datetime.strptime(re.search(r"_(\d{8}T\d{4}Z)_", key).group(1), "%Y%m%dT%H%MZ")  # type: ignore[union-attr]
        window_start = int(stamp.replace(tzinfo=dt.UTC).timestamp())
        width = 300 if "111122223333" in key else 3600
        start_i, end_i = header.index("start"), header.index("end")
        for line in lines[1:]:
            fields = line.split(" ")
            assert len(fields) == len(header), (key, line)
            assert window_start <= int(fields[start_i]) <= int(fields[end_i]) < window_start + width
    assert len(headers) == 2  # the default v2 layout and one custom v5 layout


def test_manifest_flow_counts_match_the_files(estate: DemoManifest) -> None:
    per_file: dict[str, int] = {}
    status: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    for key in estate.keys:
        if _kind(key) != "flow":
            continue
        lines = gzip.decompress((estate.root / key).read_bytes()).decode().splitlines()
        header = lines[0].split()
        per_file[key] = len(lines) - 1
        for line in lines[1:]:
            rec = dict(zip(header, line.split(" "), strict=True))
            status[rec["log-status"]] += 1
            if rec["action"] == "REJECT":
                rejects[rec["srcaddr"]] += 1
    assert per_file == estate.flow_records_per_file
    assert sum(per_file.values()) == estate.flow_records_total
    assert 50_000 <= estate.flow_records_total <= 70_000
    assert status == Counter(estate.flow_records_by_log_status)
    assert status["NODATA"] > 0 and status["SKIPDATA"] > 0
    assert rejects == Counter(estate.flow_rejects_by_source)
    top = {ip for ip, _ in rejects.most_common(5)}
    assert top == set(estate.brute_force_sources) | {estate.port_scan_source}
    for ip in estate.brute_force_sources:
        assert rejects[ip] >= 200


def test_port_scan_hits_hundreds_of_ports(estate: DemoManifest) -> None:
    ports: set[str] = set()
    for key in estate.flow_log_files:
        lines = gzip.decompress((estate.root / key).read_bytes()).decode().splitlines()
        header = lines[0].split()
        src, dport = header.index("srcaddr"), header.index("dstport")
        ports.update(f[dport] for f in (ln.split(" ") for ln in lines[1:]) if f[src] == estate.port_scan_source)
    assert len(ports) == estate.port_scan_ports >= 300


def test_flow_logs_contain_ipv6_icmp_and_dns(estate: DemoManifest) -> None:
    protocols: Counter[str] = Counter()
    ipv6 = 0
    for key in estate.flow_log_files:
        lines = gzip.decompress((estate.root / key).read_bytes()).decode().splitlines()
        header = lines[0].split()
        for line in lines[1:]:
            rec = dict(zip(header, line.split(" "), strict=True))
            protocols[rec["protocol"]] += 1
            ipv6 += ":" in rec["srcaddr"]
            if rec["protocol"] == "1":
                assert rec["srcport"] == rec["dstport"] == "0"
    assert protocols["1"] and protocols["17"] and protocols["6"]
    assert ipv6 == estate.flow_ipv6_records > 0


def test_attack_sources_geolocate_to_their_stated_countries(estate: DemoManifest) -> None:
    geolite2 = pytest.importorskip("geolite2").geolite2
    reader = geolite2.reader()
    expected = {**estate.brute_force_sources, estate.port_scan_source: estate.port_scan_country}
    for ip, country in expected.items():
        assert reader.get(ip)["country"]["iso_code"] == country, ip
    assert {"CN", "RU", "BR", "IR"} >= set(estate.brute_force_sources.values())


def test_manifest_cloudtrail_counts_match_the_files(estate: DemoManifest) -> None:
    records = _trail_records(estate)
    per_file = {key: len(_json(estate, key)["Records"]) for key in estate.cloudtrail_files}
    assert per_file == estate.cloudtrail_records_per_file
    assert len(records) == estate.cloudtrail_records_total
    assert 2_000 <= len(records) <= 3_000
    logins = [r for r in records if r["eventName"] == "ConsoleLogin"]
    failures = Counter(
        r["userIdentity"]["userName"] for r in logins if r["responseElements"]["ConsoleLogin"] == "Failure"
    )
    assert failures == Counter(estate.console_login_failures)
    assert sum(r["responseElements"]["ConsoleLogin"] == "Success" for r in logins) == estate.console_login_successes
    root = [r for r in logins if r["userIdentity"]["type"] == "Root"]
    assert len(root) == estate.root_console_logins == 1
    names = Counter(r["eventName"] for r in records)
    assert names["StopLogging"] == estate.stop_logging_events == 1
    assert names["StartLogging"] == estate.start_logging_events == 1
    denied = sum(
        1
        for r in records
        if r.get("errorCode", "").startswith("AccessDenied") or r.get("errorCode", "").endswith("UnauthorizedOperation")
    )
    assert denied == estate.access_denied_events > 0
    insights = [r for key in estate.insight_files for r in _json(estate, key)["Records"]]
    assert len(insights) == estate.insight_records == 2
    assert {r["eventType"] for r in insights} == {"AwsCloudTrailInsight"}


def test_cloudtrail_records_have_the_real_shape(estate: DemoManifest) -> None:
    ids = set()
    for r in _trail_records(estate):
        assert r["eventVersion"] in ("1.08", "1.09")
        assert r["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
        assert r["eventCategory"] == "Management" and r["managementEvent"] is True
        assert r["userIdentity"]["type"] in ("IAMUser", "AssumedRole", "Root", "AWSService")
        if r["userIdentity"]["type"] == "AWSService":
            assert r["sourceIPAddress"].endswith(".amazonaws.com")
        if r["userIdentity"]["type"] == "AssumedRole":
            assert r["userIdentity"]["sessionContext"]["sessionIssuer"]["type"] == "Role"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventTime"])
        ids.add(r["eventID"])
    assert len(ids) == estate.cloudtrail_records_total


def test_cloudtrail_contains_the_scenarios(estate: DemoManifest) -> None:
    records = _trail_records(estate)
    opened = [
        r
        for r in records
        if r["eventName"] == "AuthorizeSecurityGroupIngress"
        for perm in r["requestParameters"]["ipPermissions"]["items"]
        if perm["fromPort"] == 22 and {"cidrIp": "0.0.0.0/0"}.items() <= perm["ipRanges"]["items"][0].items()
    ]
    assert len(opened) == 1
    names = {r["eventName"] for r in records}
    assert {
        "CreateSecurityGroup",
        "RevokeSecurityGroupIngress",
        "CreateUser",
        "AttachUserPolicy",
        "CreateAccessKey",
        "PutUserPolicy",
        "DeleteUser",
        "StopLogging",
        "StartLogging",
    } <= names
    admin = [r for r in records if r["eventName"] == "AttachUserPolicy"]
    assert admin[0]["requestParameters"]["policyArn"].endswith("/AdministratorAccess")
    failed = [r for r in records if r["eventName"] == "ConsoleLogin" and r.get("errorMessage")]
    assert any(r["errorMessage"] == "Failed authentication" for r in failed)
    assert set(estate.brute_force_sources) & {r["sourceIPAddress"] for r in failed}
    stop = next(r for r in records if r["eventName"] == "StopLogging")
    start = next(r for r in records if r["eventName"] == "StartLogging")
    between = [
        r
        for r in records
        if stop["eventTime"] < r["eventTime"] < start["eventTime"]
        and r["recipientAccountId"] == stop["recipientAccountId"]
    ]
    assert between == []  # a stopped trail delivers nothing


def test_digest_lists_real_log_files(estate: DemoManifest) -> None:
    digest_key = next(k for k in estate.skipped_by_rule if _kind(k) == "digest")
    digest = _json(estate, digest_key)
    assert digest["digestS3Object"] == digest_key
    assert {f["s3Object"] for f in digest["logFiles"]} <= set(estate.cloudtrail_files)
    assert digest["logFiles"]


def test_manifest_config_counts_match_the_files(estate: DemoManifest) -> None:
    per_file = {key: len(_json(estate, key)["configurationItems"]) for key in estate.config_files}
    assert per_file == estate.config_items_per_file
    items = _config_items(estate)
    assert len(items) == estate.config_items_total
    assert 100 <= len(items) <= 200
    for item in items:
        assert item["configurationItemVersion"] == "1.3"
        assert item["configurationItemStatus"] in ("OK", "ResourceDiscovered", "ResourceDeleted")
        assert isinstance(item["configurationStateId"], int)
    non_compliant = {
        (rule["configRuleName"], i["configuration"]["targetResourceType"], i["configuration"]["targetResourceId"])
        for i in items
        if i["resourceType"] == "AWS::Config::ResourceCompliance"
        for rule in i["configuration"]["configRuleList"]
        if rule["complianceType"] == "NON_COMPLIANT"
    }
    assert non_compliant == set(estate.non_compliant)
    assert any(rule == "restricted-ssh" for rule, _, _ in non_compliant)


def test_config_history_links_the_security_group_change_to_cloudtrail(estate: DemoManifest) -> None:
    authorize = next(
        r
        for r in _trail_records(estate)
        if r["eventName"] == "AuthorizeSecurityGroupIngress"
        and r["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] == 22
    )
    changed = [i for i in _config_items(estate) if authorize["eventID"] in i["relatedEvents"]]
    assert len(changed) == 1
    assert changed[0]["resourceId"] == authorize["requestParameters"]["groupId"]
    assert "0.0.0.0/0" in [r["cidrIp"] for p in changed[0]["configuration"]["ipPermissions"] for r in p["ipv4Ranges"]]


def test_notifications_are_sns_wrapped_config_messages(estate: DemoManifest) -> None:
    messages = {}
    for key in estate.notification_files:
        envelope = json.loads((estate.root / key).read_text())
        assert envelope["Type"] == "Notification" and envelope["TopicArn"].startswith("arn:aws:sns:")
        message = json.loads(envelope["Message"])
        messages[message["messageType"]] = message
    assert set(messages) == {"ConfigurationItemChangeNotification", "ComplianceChangeNotification"}
    change = messages["ConfigurationItemChangeNotification"]
    assert change["configurationItemDiff"]["changeType"] == "UPDATE"
    assert change["configurationItem"]["resourceType"] == "AWS::EC2::SecurityGroup"
    result = messages["ComplianceChangeNotification"]
    assert result["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
    assert (result["configRuleName"], result["resourceType"], result["resourceId"]) in estate.non_compliant
