"""Type detection from AWS's S3 key layouts and, for bare files, from content."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connector.formats.detect import detect_from_content, detect_from_key
from tests.unit._support import V2_HEADER, gz, unit, v2_line
from tests.unit.config_records import CHANGE_NOTIFICATION, COMPLIANCE_CHANGE, eventbridge, sns

A = "111122223333"


@pytest.mark.parametrize(("key", "kind"), [
    (f"AWSLogs/{A}/vpcflowlogs/us-east-1/2026/11/27/{A}_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1020Z_"
     "1a2b3c4d.log.gz", "vpcflow"),
    (f"AWSLogs/aws-account-id={A}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=27/hour=10/"
     f"{A}_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1020Z_1a2b3c4d.log.parquet", "vpcflow"),
    (f"prefix/AWSLogs/{A}/vpcflowlogs/us-east-1/2026/11/27/{A}_vpcflowlogs_us-east-1_fl-1_x.log.gz", "vpcflow"),
    (f"AWSLogs/{A}/CloudTrail/us-east-1/2026/11/27/{A}_CloudTrail_us-east-1_20261127T1020Z_AbCd.json.gz",
     "cloudtrail"),
    (f"AWSLogs/o-abc123/{A}/CloudTrail/us-east-1/2026/11/27/{A}_CloudTrail_us-east-1_20261127T1020Z_AbCd.json.gz",
     "cloudtrail"),
    (f"AWSLogs/{A}/CloudTrail-Insight/us-east-1/2026/11/27/{A}_CloudTrail-Insight_us-east-1_20261127T1020Z_A.json.gz",
     "cloudtrail"),
    (f"AWSLogs/{A}/CloudTrail-Digest/us-east-1/2026/11/27/{A}_CloudTrail-Digest_us-east-1_t_us-east-1_"
     "20261127T102000Z.json.gz", "cloudtrail"),
    (f"AWSLogs/{A}/Config/us-east-1/2026/11/27/ConfigHistory/{A}_Config_us-east-1_ConfigHistory_"
     "AWS::EC2::SecurityGroup_20261127T100000Z_20261127T110000Z_1.json.gz", "config"),
    (f"AWSLogs/{A}/Config/us-east-1/2026/11/27/ConfigSnapshot/{A}_Config_us-east-1_ConfigSnapshot_"
     "20261127T100000Z_0a1b2c3d-0000-4000-8000-000000000000.json.gz", "config"),
    ("exports/flows.txt", None),
    ("downloads/object.json.gz", None),
])
def test_detect_from_key_knows_aws_layouts(key, kind):
    assert detect_from_key(key) == kind


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"version": [2], "srcaddr": ["10.0.0.1"]}), buf)
    return buf.getvalue()


CONTENT = [
    ((V2_HEADER + "\n" + v2_line()).encode(), "vpcflow"),
    (v2_line().encode(), "vpcflow"),
    (b"account-id interface-id srcaddr dstaddr\n", "vpcflow"),
    (json.dumps({"message": v2_line()}).encode(), "vpcflow"),
    (json.dumps({"Records": [{"eventVersion": "1.08"}]}).encode(), "cloudtrail"),
    (json.dumps({"eventVersion": "1.08", "eventID": "x"}).encode() + b"\n" + b'{"eventVersion": "1.08"}', "cloudtrail"),
    (json.dumps({"digestStartTime": "x", "logFiles": []}).encode(), "cloudtrail"),
    (json.dumps({"fileVersion": "1.0", "configurationItems": []}).encode(), "config"),
    (json.dumps(CHANGE_NOTIFICATION).encode(), "config"),
    (json.dumps(sns(COMPLIANCE_CHANGE)).encode(), "config"),
    (json.dumps(eventbridge(CHANGE_NOTIFICATION)).encode(), "config"),
    (b'{"Records": [{"eventVersion": "1.08", "eventID": "' + b"x" * 70000, "cloudtrail"),
    (json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}).encode(), None),
    (b"", None),
    (b"hello world\n", None),
]


@pytest.mark.parametrize(("head", "kind"), CONTENT)
def test_detect_from_content_on_bare_bytes(head, kind):
    assert detect_from_content(head) == kind


@pytest.mark.parametrize(("head", "kind"), [c for c in CONTENT if c[0]] + [(b"PARQUET", None)])
def test_processor_detects_gzipped_bare_files_without_a_telling_name(processor, head, kind):
    assert processor.detect(unit(gzip.compress(head), "downloads/object")) == kind


def test_processor_detects_parquet_by_magic(processor):
    assert processor.detect(unit(_parquet(), "downloads/object")) == "vpcflow"


def test_type_hint_wins_over_key_and_content(processor):
    assert processor.detect(unit(gz(v2_line()), "AWSLogs/1/CloudTrail/x.json.gz", "vpcflow")) == "vpcflow"
