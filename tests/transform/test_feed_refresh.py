"""A long-running process (``forward``, a warm Lambda container) picks up a changed feed between
units, and keeps the last good copy when the new one is broken — through the record processor,
for flow logs that the normalizer marks itself and for CloudTrail that the document stage marks."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import time
from pathlib import Path

import orjson

from connector.config import load_config
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sources.base import WorkUnit
from tests.unit._support import FLOW_KEY, V2_HEADER, v2_line

TRAIL_KEY = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/11/14/123456789012_CloudTrail_us-east-1_x.json.gz"


def flows() -> bytes:
    lines = [v2_line(src="61.177.172.13", dst="10.0.0.5", action="REJECT"),
             v2_line(src="91.240.118.172", dst="10.0.0.5", action="REJECT"),
             v2_line(src="10.0.0.6", dst="10.0.0.7")]
    return gzip.compress(("\n".join([V2_HEADER, *lines]) + "\n").encode())


def trail() -> bytes:
    record = {"eventVersion": "1.09", "eventTime": "2023-11-14T22:13:20Z", "eventSource": "iam.amazonaws.com",
              "eventName": "ListUsers", "awsRegion": "us-east-1", "sourceIPAddress": "91.240.118.172",
              "userAgent": "aws-cli/2", "eventID": "11111111-2222-3333-4444-555555555555",
              "userIdentity": {"type": "IAMUser", "userName": "bob", "accountId": "123456789012"},
              "eventType": "AwsApiCall", "recipientAccountId": "123456789012"}
    return gzip.compress(json.dumps({"Records": [record]}).encode())


def marked(processor: RecordProcessor, key: str, body: bytes, kind: str) -> dict[str, list[str]]:
    unit = WorkUnit(key=key, origin=key, open=lambda: io.BytesIO(body), type_hint=kind)
    out: dict[str, list[str]] = {}
    for item in processor.process(unit):
        if isinstance(item, NormalizedChunk):
            for text in item.encoded:
                doc = orjson.loads(text)
                out[doc["source"]["ip"]] = [e["indicator"]["provider"] for e in
                                            doc.get("threat", {}).get("enrichments", [])]
    return out


def test_changed_feed_is_picked_up_and_a_broken_one_keeps_the_last_good(tmp_path: Path, caplog) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("61.177.172.13\n")
    config = tmp_path / "c.yaml"
    # A rule on flows makes the normalizer mark them; CloudTrail is marked by the document stage.
    config.write_text("filters:\n  - {name: drop-none, dataset: aws.vpcflow, when: {user.name: nobody}, "
                      f"action: drop}}\nthreat_intel:\n  refresh_minutes: 0.001\n  feeds:\n"
                      f"    - {{name: lab, path: {feed}, format: plain}}\n")
    processor = RecordProcessor(load_config(str(config), {}))
    assert marked(processor, FLOW_KEY, flows(), "vpcflow") == {"61.177.172.13": ["lab"], "91.240.118.172": [],
                                                               "10.0.0.6": []}
    assert marked(processor, TRAIL_KEY, trail(), "cloudtrail") == {"91.240.118.172": []}

    feed.write_text("91.240.118.0/24\n")
    os.utime(feed, (time.time() + 5, time.time() + 5))
    time.sleep(0.1)
    assert marked(processor, FLOW_KEY, flows(), "vpcflow") == {"61.177.172.13": [], "91.240.118.172": ["lab"],
                                                               "10.0.0.6": []}
    assert marked(processor, TRAIL_KEY, trail(), "cloudtrail") == {"91.240.118.172": ["lab"]}

    feed.write_text("# nothing usable any more\nnot-an-indicator\n")
    os.utime(feed, (time.time() + 10, time.time() + 10))
    time.sleep(0.1)
    with caplog.at_level(logging.WARNING):
        assert marked(processor, FLOW_KEY, flows(), "vpcflow")["91.240.118.172"] == ["lab"]
    assert any("lab" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
