"""Builders for the threat-intel tests: feeds on disk, and documents made by the real normalizers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.threat_intel.enrichment import ThreatIntel
from connector.threat_intel.settings import FeedSettings, ThreatIntelSettings
from tests.unit._support import FLOW_KEY, V2_HEADER, unit, v2_line

TRAIL_KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_us-east-1_x.json.gz"


def write_feed(directory: Path, name: str, content: str | bytes, **options: Any) -> FeedSettings:
    """A feed file named ``name`` under ``directory`` and its settings (``format`` etc. in ``options``)."""
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return FeedSettings(name=options.pop("feed_name", path.stem), path=str(path), **options)


def load(*feeds: FeedSettings, refresh_minutes: float = 60) -> ThreatIntel:
    """``ThreatIntel`` over local feeds."""
    return ThreatIntel.load(ThreatIntelSettings(tuple(feeds), refresh_minutes))


def encoded_docs(processor: RecordProcessor, data: bytes, key: str) -> list[bytes]:
    """The serialized documents the processor writes for one object."""
    out: list[bytes] = []
    for item in processor.process(unit(data, key)):
        if isinstance(item, NormalizedChunk):
            out.extend(item.encoded)
    return out


def flow_docs(processor: RecordProcessor, *pairs: tuple[str, str]) -> list[bytes]:
    """One flow document per (source, destination) pair, through the real flow normalizer."""
    lines = [V2_HEADER] + [v2_line(src=src, dst=dst, sport=40000 + i) for i, (src, dst) in enumerate(pairs)]
    return encoded_docs(processor, ("\n".join(lines) + "\n").encode(), FLOW_KEY)


def trail_record(source: str, host: str | None = None, **extra: Any) -> dict[str, Any]:
    """A CloudTrail record from ``source`` (an address or a service name), optionally with the TLS host header."""
    record: dict[str, Any] = {
        "eventVersion": "1.08", "eventID": f"e-{source}-{host}", "eventTime": "2026-11-27T10:20:00Z",
        "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity", "awsRegion": "us-east-1",
        "sourceIPAddress": source, "userAgent": "aws-cli/2.13.5", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333", "userName": "alice",
                         "arn": "arn:aws:iam::111122223333:user/alice"},
        "eventType": "AwsApiCall", **extra,
    }
    if host is not None:
        record["tlsDetails"] = {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": host}
    return record


def trail_docs(processor: RecordProcessor, *records: dict[str, Any]) -> list[bytes]:
    """The documents of CloudTrail ``records``, through the real CloudTrail normalizer."""
    return encoded_docs(processor, json.dumps({"Records": list(records)}).encode(), TRAIL_KEY)
