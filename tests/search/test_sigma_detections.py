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
from connector.demo.estate import DemoManifest
from connector.detections import convert
from tests.servers.search_cluster import SearchCluster, http_json

pytestmark = pytest.mark.integration
NAMESPACE = "sigma"
Record = dict[str, Any]


def _login(record: Record, outcome: str) -> bool:
    return record["eventName"] == "ConsoleLogin" and (record.get("responseElements") or {}).get(
        "ConsoleLogin") == outcome


# The CIS AWS Foundations monitoring controls (section 4): the API calls each one watches.
CIS_CHANGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "AWS IAM Policy Changed": ("iam.amazonaws.com", (
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
        "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
        "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy",
        "DetachGroupPolicy")),
    "AWS KMS Key Disabled or Scheduled for Deletion": ("kms.amazonaws.com", ("DisableKey", "ScheduleKeyDeletion")),
    "AWS S3 Bucket Policy Changed": ("s3.amazonaws.com", (
        "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
        "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication")),
    "AWS Config Recording Changed": ("config.amazonaws.com", (
        "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder")),
    "AWS Security Group Changed": ("ec2.amazonaws.com", (
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup")),
    "AWS Network ACL Changed": ("ec2.amazonaws.com", (
        "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")),
    "AWS Network Gateway Changed": ("ec2.amazonaws.com", (
        "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway",
        "DeleteInternetGateway", "DetachInternetGateway")),
    "AWS Route Table Changed": ("ec2.amazonaws.com", (
        "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
        "DeleteRoute", "DisassociateRouteTable")),
    "AWS VPC Changed": ("ec2.amazonaws.com", (
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
        "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
        "DisableVpcClassicLink", "EnableVpcClassicLink")),
}


def _cis_change(source: str, names: tuple[str, ...]) -> Callable[[Record], bool]:
    return lambda r: r["eventSource"] == source and r["eventName"] in names


# Each bundled rule's meaning, written again over the raw CloudTrail records.
TRUTH: dict[str, Callable[[Record], bool]] = {
    **{title: _cis_change(source, names) for title, (source, names) in CIS_CHANGES.items()},
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


def _extra_trail(records: list[Record], tmp_path: Path) -> Path:
    """A trail file with what the demo day lacks, made from its own records: two successful
    sign-ins, the first without MFA, and the last API call of each CIS control's list."""
    login = next(r for r in records if _login(r, "Success") and r["userIdentity"].get("type") == "IAMUser")
    extra = []
    for mfa in ("No", "Yes"):
        record = copy.deepcopy(login)
        record["additionalEventData"]["MFAUsed"] = mfa
        extra.append(record)
    call = next(r for r in records if "errorCode" not in r and r["eventName"] != "ConsoleLogin")
    for source, names in CIS_CHANGES.values():
        record = copy.deepcopy(call)
        record["eventSource"], record["eventName"] = source, names[-1]
        extra.append(record)
    for n, record in enumerate(extra):
        record["eventID"] = f"00000000-0000-4000-8000-{n:012d}"
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
    files.append(_extra_trail(_raw_records(files), tmp_path))
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

    detections = convert("lucene").detections
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
    by_title = {d.title: d.query for d in convert(backend).detections}
    assert by_title["AWS Root Account Console Login"] == expected
