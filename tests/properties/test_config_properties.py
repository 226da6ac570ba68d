"""AWS Config objects and notifications of every kind, with hostile items: nothing escapes, every
item and notification is settled.

Kinds: history and snapshot files, item-change, oversized-item (its full item fetched from a stub
S3 that holds anything), compliance-change notifications, delivery notices; raw, SNS-wrapped or as
EventBridge events; one document per object or one per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from connector.config import AppConfig
from connector.pipeline import RecordProcessor
from connector.sources.s3 import S3OversizedFetcher
from tests.properties.settling import memory_unit, settle
from tests.properties.strategies import (
    Generated,
    config_documents,
    deep_json,
    encode_json,
    json_styles,
    maybe_gzip,
)
from tests.properties.stub_s3 import StubS3

CONFIG_KEY = "AWSLogs/123456789012/Config/us-east-1/2024/5/1/ConfigHistory/123456789012_Config_x.json.gz"
ITEM = {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-0123", "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2024-05-01T12:00:00.000Z", "configurationStateId": 1714564800000,
        "awsAccountId": "123456789012", "awsRegion": "us-east-1"}
TEN_MB = 10 * 1024 * 1024


OVERSIZED_TARGETS: dict[str, bytes] = {
    "bucket/key.json": json.dumps({"messageType": "ConfigurationItemChangeNotification",
                                   "configurationItem": ITEM}).encode(),
    "bucket/oversized": json.dumps({"messageType": "OversizedConfigurationItemChangeNotification",
                                    "s3DeliverySummary": {"s3BucketLocation": "bucket/oversized"}}).encode(),
    "bucket/junk": b"\xff\x00 not json",
}


@pytest.fixture(scope="module")
def fetching_processor() -> Iterator[RecordProcessor]:
    """A processor whose oversized-item fetcher reads the stub S3 through the real fetcher."""
    proc = RecordProcessor(AppConfig(), fetch_oversized=S3OversizedFetcher(StubS3(OVERSIZED_TARGETS)))
    yield proc
    proc.close()


def _one(doc: Any, units: int, note: str) -> Generated:
    return Generated(json.dumps(doc).encode(), units, note)


@st.composite
def config_objects(draw: st.DrawFn) -> Generated:
    """One document per object, or one per line."""
    if draw(st.booleans()):
        doc, units = draw(config_documents())
        data = encode_json(doc, draw(json_styles))
        if b"\n" in data:
            data = encode_json(doc, "spaced")  # text that is not JSON spread over lines has no bounds
        return Generated(maybe_gzip(data, draw(st.booleans())), units)
    documents = draw(st.lists(config_documents(), min_size=1, max_size=6))
    lines = [encode_json(doc, draw(st.sampled_from(["compact", "spaced", "raw-surrogates"]))) for doc, _ in documents]
    # Two or more lines, so that the object is read one document per line.
    lines.append(b"{not json")
    units = sum(units for _, units in documents) + 1
    return Generated(maybe_gzip(b"\n".join(lines), draw(st.booleans())), units)


@given(config_objects(), st.booleans())
@example(Generated(f'{{"configurationItems": [{json.dumps(ITEM)}, {json.dumps(ITEM)[:-1]}, "configuration": '
                   f'{deep_json(1_000)}}}, {json.dumps(ITEM)}]}}'.encode(), 3, "an item nested 1,000 deep"), True)
@example(Generated(b'{"configurationItems": [' + json.dumps(ITEM).encode() + b', {"configuration": '
                   + deep_json(10_000).encode() + b"}]}", 2, "an item nested 10,000 deep"), False)
@example(Generated(json.dumps({"configurationItems": [{**ITEM, "resourceName": "x" * TEN_MB}]}).encode(), 1,
                   "a 10 MB item on one line"), False)
@example(_one({"configurationItems": [{**ITEM, "configurationStateId": 2**70}, {**ITEM, "resourceId": "\x00\ud800"}]},
              2, "a number beyond 64 bits, a NUL and a lone surrogate"), False)
@example(_one({"configurationItems": []}, 1, "no items"), False)
@example(_one({"configurationItems": [], "configSnapshotId": "s"}, 1, "an empty snapshot"), True)
@example(Generated(b"\xff\xfe\x00{\x00", 1, "bytes that are not UTF-8"), False)
@example(_one({"messageType": "OversizedConfigurationItemChangeNotification",
               "s3DeliverySummary": {"s3BucketLocation": ["bucket", "key.json"]}}, 1, "a location of another shape"),
         True)
@example(_one({"messageType": "OversizedConfigurationItemChangeNotification",
               "s3DeliverySummary": {"s3BucketLocation": "bucket/oversized"}}, 1, "a pointer to a pointer"), True)
@example(_one({"Type": "Notification", "Message": json.dumps({"configurationItems": [ITEM, ITEM]})}, 2,
              "a history document in an SNS envelope"), False)
def test_config_objects_settle_every_item(processor: RecordProcessor, fetching_processor: RecordProcessor,
                                          generated: Generated, fetch: bool) -> None:
    proc = fetching_processor if fetch else processor
    settle(proc, [memory_unit(generated.data, CONFIG_KEY)]).assert_accounts_for(generated.units)
