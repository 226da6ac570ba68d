"""Deterministic ECS documents shaped like the normalizer's output, for sink tests and the bench."""

from __future__ import annotations

import hashlib
from typing import Any

from connector.sinks.base import Batch

# Public sources with known locations: (ip, lat, lon, country, asn, org).
PUBLIC_SOURCES = [
    ("185.199.108.10", 50.1109, 8.6821, "DE", 54113, "Fastly"),  # Frankfurt
    ("91.198.174.192", 52.3676, 4.9041, "NL", 14907, "Wikimedia"),  # Amsterdam
    ("203.0.113.77", 35.6762, 139.6503, "JP", 2497, "IIJ"),  # Tokyo
    ("198.51.100.23", 39.0438, -77.4874, "US", 14618, "Amazon"),  # Ashburn
    ("200.160.2.3", -23.5505, -46.6333, "BR", 22548, "NIC.br"),  # Sao Paulo
]
EUROPE_BOX = {"top_left": {"lat": 60.0, "lon": -10.0}, "bottom_right": {"lat": 35.0, "lon": 30.0}}
EUROPE_IPS = {"185.199.108.10", "91.198.174.192"}
PRIVATE_SOURCES = ["10.0.1.15", "172.31.5.9", "192.168.7.20"]


def _id(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def flow_doc(n: int, origin: str = "s3://flow-bucket/AWSLogs/123456789012/vpcflowlogs/obj.log.gz") -> dict[str, Any]:
    """One flow record; every third one comes from a public address with geo and AS fields."""
    public = n % 3 == 0
    dst = f"10.0.{n % 250}.{1 + n % 200}"
    start = 1_700_000_000 + n
    ts = f"2023-11-14T22:{(start // 60) % 60:02d}:{start % 60:02d}Z"
    action = "REJECT" if n % 5 == 0 else "ACCEPT"
    doc: dict[str, Any] = {
        "@timestamp": ts,
        "event": {
            "id": _id(origin, n),
            "kind": "event",
            "category": ["network"],
            "type": ["connection", "denied" if action == "REJECT" else "allowed"],
            "action": action.lower(),
            "outcome": "failure" if action == "REJECT" else "success",
            "dataset": "aws.vpcflow",
            "module": "aws",
            "start": ts,
            "end": ts,
        },
        "cloud": {"provider": "aws", "account": {"id": "123456789012"}, "region": "eu-central-1",
                  "instance": {"id": f"i-{n % 97:017x}"}},
        "destination": {"ip": dst, "port": 22 if n % 4 == 0 else 443, "address": dst},
        "network": {"bytes": 40 + n * 7, "packets": 1 + n % 13, "transport": "tcp", "iana_number": "6",
                    "type": "ipv4", "direction": "inbound",
                    "community_id": "1:" + _id("cid", n)[:27] + "="},
        "aws": {"vpcflow": {"version": "2", "account_id": "123456789012",
                            "interface_id": f"eni-{n % 50:017x}", "action": action, "log_status": "OK",
                            "tcp_flags": "2", "tcp_flags_array": ["syn"], "pkt_srcaddr": "-"}},
    }
    if public:
        ip, lat, lon, country, asn, org = PUBLIC_SOURCES[(n // 3) % len(PUBLIC_SOURCES)]
        doc["source"] = {"ip": ip, "port": 1024 + n % 60000, "address": ip, "bytes": 40 + n * 7,
                         "packets": 1 + n % 13,
                         "geo": {"location": {"lat": lat, "lon": lon}, "country_iso_code": country},
                         "as": {"number": asn, "organization": {"name": org}}}
    else:
        ip = PRIVATE_SOURCES[n % len(PRIVATE_SOURCES)]
        doc["source"] = {"ip": ip, "port": 1024 + n % 60000, "address": ip}
    doc["related"] = {"ip": [doc["source"]["ip"], dst]}
    return doc


def cloudtrail_doc(n: int) -> dict[str, Any]:
    """One CloudTrail API call with free-form request and response objects."""
    h = _id("ct", n)
    event_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
    return {
        "@timestamp": f"2023-11-14T10:{n % 60:02d}:00Z",
        "event": {"id": event_id, "kind": "event", "category": ["iam"], "type": ["change"],
                  "action": "AuthorizeSecurityGroupIngress", "outcome": "success",
                  "provider": "ec2.amazonaws.com", "dataset": "aws.cloudtrail", "module": "aws"},
        "cloud": {"provider": "aws", "account": {"id": "123456789012"}, "region": "us-east-1"},
        "source": {"ip": "198.51.100.23", "address": "198.51.100.23",
                   "geo": {"location": {"lat": 39.0438, "lon": -77.4874}, "country_iso_code": "US"}},
        "user": {"name": f"analyst{n % 4}", "id": f"AIDA{n:012d}"},
        "user_agent": {"original": "aws-cli/2.13.0 Python/3.11.4"},
        "related": {"ip": ["198.51.100.23"], "user": [f"analyst{n % 4}"]},
        "aws": {"cloudtrail": {
            "event_version": "1.08", "event_type": "AwsApiCall", "event_category": "Management",
            # As the normalizer writes them: Elastic's text rendering, and the objects under flattened.
            "request_parameters": f"{{groupId=sg-{n:08x}, ipPermissions={{items=[{{ipProtocol=tcp, fromPort=22}}]}}}}",
            "response_elements": f"{{_return=true, requestId={_id('req', n)}}}",
            "flattened": {
                "request_parameters": {
                    "groupId": f"sg-{n:08x}",
                    "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22,
                                                 "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]},
                },
                "response_elements": {"_return": True, "requestId": _id("req", n)},
            },
            "user_identity": {"type": "IAMUser", "arn": f"arn:aws:iam::123456789012:user/analyst{n % 4}",
                              "access_key_id": f"AKIA{n:016d}"},
        }},
    }


def config_doc(n: int) -> dict[str, Any]:
    """One Config item with a free-form configuration of many distinct keys."""
    resource_id = f"i-{n:017x}"
    return {
        "@timestamp": f"2023-11-14T12:{n % 60:02d}:00Z",
        "event": {"id": f"AWS::EC2::Instance/{resource_id}/{1700000000000 + n}", "kind": "event",
                  "category": ["configuration"], "type": ["change"], "action": "OK",
                  "dataset": "aws.config", "module": "aws"},
        "cloud": {"provider": "aws", "account": {"id": "123456789012"}, "region": "eu-west-1"},
        "aws": {"config": {
            "resource_type": "AWS::EC2::Instance", "resource_id": resource_id,
            "configuration_item_status": "OK", "configuration_state_id": str(1700000000000 + n),
            "configuration": {"instanceType": "t3.micro" if n % 2 else "m5.large",
                              "state": {"name": "running", "code": 16},
                              **{f"customKey{n}_{k}": k for k in range(20)}},
            "tags": {"Name": f"web-{n}", "team": "soc"},
            "relationships": [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": f"sg-{n:08x}",
                               "name": "Is associated with SecurityGroup"}],
        }},
    }


def dataset_batch(flows: int, trails: int, configs: int, origin: str = "test://dataset") -> Batch:
    """A mixed batch with the given number of records per source."""
    batch = Batch()
    for n in range(flows):
        batch.add(flow_doc(n), "aws.vpcflow", origin)
    for n in range(trails):
        batch.add(cloudtrail_doc(n), "aws.cloudtrail", origin)
    for n in range(configs):
        batch.add(config_doc(n), "aws.config", origin)
    return batch


def mapping_violation_batch() -> Batch:
    """Twenty flow documents from s3://bucket/key#<n>; #7 has a text port and #12 an invalid
    address, which the templates' mapping refuses."""
    batch = Batch()
    for n in range(20):
        doc = flow_doc(n)
        if n == 7:
            doc["source"]["port"] = "not-a-port"
        if n == 12:
            doc["source"]["ip"] = "999.1.1.1"
        batch.add(doc, "aws.vpcflow", f"s3://bucket/key#{n}")
    return batch
