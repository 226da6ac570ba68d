"""Golden files: one input per kind of record and the reviewed ECS document it must produce, field by field."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connector.config import AppConfig
from connector.enrich.geoip import GeoIpSettings
from connector.pipeline import RecordProcessor
from tests.unit._support import process

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"  # regenerate, then review every changed value by hand

# name -> (S3 key the input is read as, type hint); the input is <name>.input.*, the result <name>.expected.json
CASES = {
    "vpcflow_v2": ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_"
                   "fl-0123456789abcdef0_20231114T2215Z_1a2b3c4d.log.gz", None),
    "vpcflow_v5_custom": ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_"
                          "fl-0fedcba987654321f_20231114T2215Z_5e6f7a8b.log.gz", None),
    "vpcflow_tgw": ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_"
                    "tgw-0123456789abcdef0_20231114T2215Z_9c0d1e2f.log.gz", None),
    "cloudtrail_console_login_failure": ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_"
                                         "CloudTrail_us-east-1_20261127T1015Z_AbCdEfGhIjKlMnOp.json.gz", None),
    "cloudtrail_assume_role": ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_"
                               "us-east-1_20261127T1020Z_BcDeFgHiJkLmNoPq.json.gz", None),
    "cloudtrail_aws_service_call": ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_"
                                    "us-east-1_20261127T1025Z_CdEfGhIjKlMnOpQr.json.gz", None),
    "config_history_item": ("AWSLogs/111122223333/Config/us-east-1/2026/11/27/ConfigHistory/111122223333_Config_"
                            "us-east-1_ConfigHistory_AWS::EC2::SecurityGroup_20261127T140000Z_20261127T150000Z_1"
                            ".json.gz", None),
    "config_compliance_notification": ("sqs-notifications/config-compliance-change-restricted-ssh.json", "config"),
}


@pytest.fixture(scope="module")
def golden_processor():
    proc = RecordProcessor(AppConfig(geoip=GeoIpSettings()))
    yield proc
    proc.close()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaves; lists are leaves (their order matters in ECS arrays we write)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def diff(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    want, got = flatten(expected), flatten(actual)
    lines = []
    for path in sorted(set(want) | set(got)):
        if path not in got:
            lines.append(f"  missing  {path}: expected {want[path]!r}")
        elif path not in want:
            lines.append(f"  extra    {path}: {got[path]!r}")
        elif want[path] != got[path]:
            lines.append(f"  changed  {path}: expected {want[path]!r}, got {got[path]!r}")
    return lines


def actual_document(processor: RecordProcessor, name: str) -> dict[str, Any]:
    key, hint = CASES[name]
    (source,) = GOLDEN.glob(f"{name}.input.*")
    out = process(processor, source.read_bytes(), key, hint)
    assert not out.dead and not out.skipped, (out.dead, out.skipped)
    assert len(out.docs) == 1
    doc = out.docs[0]
    doc["event"].pop("ingested")
    return doc


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_document(golden_processor, name):
    doc = actual_document(golden_processor, name)
    expected_path = GOLDEN / f"{name}.expected.json"
    if UPDATE:
        expected_path.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    problems = diff(expected, doc)
    assert not problems, f"{name}: document differs from {expected_path.name}:\n" + "\n".join(problems)


def test_every_golden_input_has_a_case():
    inputs = {p.name.split(".input.")[0] for p in GOLDEN.glob("*.input.*")}
    assert inputs == set(CASES)
