"""ECS-looking documents for the HEC sink tests, with the raw AWS record each came from."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sinks.base import Batch

BASE = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
PUBLIC_GEO = {
    "country_iso_code": "DE",
    "country_name": "Germany",
    "region_name": "Hesse",
    "city_name": "Frankfurt am Main",
    "continent_name": "Europe",
    "location": {"lat": 50.1155, "lon": 8.6842},
}


def iso(moment: datetime, millis: bool = True) -> str:
    """ISO 8601 UTC with a ``Z``, with or without milliseconds, as the normalizers write it."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


def vpcflow(i: int, origin: str = "s3://flow-bucket/AWSLogs/123456789012/vpcflowlogs/f.log.gz") -> tuple[
    dict[str, Any], str
]:
    """One flow-log record and its ECS document; odd records come from a public address."""
    start = BASE + timedelta(seconds=i // 7)
    src = f"198.51.100.{i % 250 + 1}" if i % 2 else f"10.0.{i % 200}.{i % 250 + 1}"
    dst = "10.0.1.20"
    sport, dport = 40000 + i % 20000, (443, 22, 3389, 80)[i % 4]
    action = "REJECT" if i % 5 == 0 else "ACCEPT"
    raw = (
        f"2 {ACCOUNT} eni-0a1b2c3d{i % 100:02d} {src} {dst} {sport} {dport} 6 {10 + i % 90} "
        f"{4000 + i * 13} {int(start.timestamp())} {int(start.timestamp()) + 60} {action} OK"
    )
    doc: dict[str, Any] = {
        "@timestamp": iso(start, millis=False),
        "event": {
            "id": hashlib.sha256(f"{origin}:{i}".encode()).hexdigest()[:32],
            "dataset": "aws.vpcflow",
            "kind": "event",
            "category": ["network"],
            "type": ["connection", "denied" if action == "REJECT" else "allowed"],
            "action": action.lower(),
            "outcome": "failure" if action == "REJECT" else "success",
            "provider": "vpc",
        },
        "cloud": {"provider": "aws", "account": {"id": ACCOUNT}, "region": "eu-central-1"},
        "source": {"ip": src, "port": sport},
        "destination": {"ip": dst, "port": dport},
        "network": {
            "transport": "tcp",
            "iana_number": "6",
            "type": "ipv4",
            "bytes": 4000 + i * 13,
            "packets": 10 + i % 90,
            "direction": "inbound",
            "community_id": "1:" + hashlib.sha1(raw.encode()).hexdigest()[:26] + "=",
        },
        "related": {"ip": [src, dst]},
        "aws": {"vpcflow": {"version": "2", "interface_id": f"eni-0a1b2c3d{i % 100:02d}", "action": action,
                            "log_status": "OK"}},
    }
    if i % 2:
        doc["source"]["geo"] = dict(PUBLIC_GEO)
        doc["source"]["as"] = {"number": 3320, "organization": {"name": "Deutsche Telekom AG"}}
    return doc, raw


def cloudtrail(i: int, origin: str = "s3://trail-bucket/AWSLogs/123456789012/CloudTrail/x.json.gz") -> tuple[
    dict[str, Any], str
]:
    """One CloudTrail record and its ECS document, with millisecond timestamps."""
    moment = BASE + timedelta(seconds=i, milliseconds=(i * 37) % 1000)
    event_id = f"6f1b2c3d-{i:04d}-4a5b-8c9d-0e1f2a3b4c5d"
    record = {
        "eventVersion": "1.08",
        "eventTime": iso(moment, millis=False),
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser" if i % 3 else "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {"type": "IAMUser", "userName": f"alice{i % 5}", "accountId": ACCOUNT},
        "eventID": event_id,
        "recipientAccountId": ACCOUNT,
    }
    doc: dict[str, Any] = {
        "@timestamp": iso(moment),
        "event": {
            "id": event_id,
            "dataset": "aws.cloudtrail",
            "kind": "event",
            "action": record["eventName"],
            "provider": "iam.amazonaws.com",
            "outcome": "success",
        },
        "cloud": {"provider": "aws", "account": {"id": ACCOUNT}, "region": "us-east-1"},
        "user": {"name": f"alice{i % 5}"},
        "user_agent": {"original": "aws-cli/2.15.0"},
        "source": {"ip": "203.0.113.7", "geo": dict(PUBLIC_GEO)},
        "related": {"user": [f"alice{i % 5}"], "ip": ["203.0.113.7"]},
        "error": None,
        "aws": {"cloudtrail": {"event_version": "1.08", "user_identity": {"type": "IAMUser"}}},
    }
    return doc, json.dumps(record, separators=(",", ":"))


def config_item(i: int, notification: bool = False) -> tuple[dict[str, Any], str, str]:
    """One Config item (from a history file) or change notification (from SQS), with its origin."""
    moment = BASE + timedelta(minutes=i, milliseconds=250)
    state = 1000 + i
    item = {
        "configurationItemCaptureTime": iso(moment),
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": f"sg-{i:08x}",
        "configurationStateId": state,
        "awsRegion": "eu-west-1",
        "configurationItemStatus": "OK",
    }
    doc: dict[str, Any] = {
        "@timestamp": iso(moment),
        "event": {
            "id": f"AWS::EC2::SecurityGroup/sg-{i:08x}/{state}",
            "dataset": "aws.config",
            "kind": "state",
            "action": "ConfigurationItemChangeNotification" if notification else "OK",
        },
        "cloud": {"provider": "aws", "account": {"id": ACCOUNT}, "region": "eu-west-1"},
        "aws": {"config": {"resource_type": "AWS::EC2::SecurityGroup", "resource_id": f"sg-{i:08x}"}},
    }
    if notification:
        doc["aws"]["config"]["message_type"] = "ConfigurationItemChangeNotification"
        raw = json.dumps({"messageType": "ConfigurationItemChangeNotification", "configurationItem": item})
        return doc, raw, "sqs://config-changes"
    return doc, json.dumps(item), "s3://config-bucket/AWSLogs/123456789012/Config/ConfigHistory/h.json.gz"


FLOW_ORIGIN = "s3://flow-bucket/AWSLogs/123456789012/vpcflowlogs/f.log.gz"
TRAIL_ORIGIN = "s3://trail-bucket/AWSLogs/123456789012/CloudTrail/x.json.gz"


def mixed_batch(n_flow: int = 300, n_trail: int = 150, n_config: int = 60) -> Batch:
    """A batch of all three datasets, interleaved, with originals kept."""
    batch = Batch()
    for i in range(max(n_flow, n_trail, n_config)):
        if i < n_flow:
            doc, raw = vpcflow(i)
            batch.add(doc, "aws.vpcflow", FLOW_ORIGIN, raw)
        if i < n_trail:
            doc, raw = cloudtrail(i)
            batch.add(doc, "aws.cloudtrail", TRAIL_ORIGIN, raw)
        if i < n_config:
            doc, raw, origin = config_item(i, notification=bool(i % 2))
            batch.add(doc, "aws.config", origin, raw)
    return batch


def expected_time(doc: dict[str, Any]) -> float:
    """What HEC ``time`` must be for a document: its ``@timestamp`` in epoch seconds, to the ms."""
    moment = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000) / 1000
