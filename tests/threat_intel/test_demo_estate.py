"""The whole demo day (flow logs, CloudTrail, Config) through the real normalizers: with feeds
listing some of its addresses and host names, every document that ``enrich`` matches is one the
byte-level test lets through. This holds the normalizers to the rule the test relies on
(``related.ip`` lists every address of a document)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connector.demo.estate import DemoManifest
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sources.local import local_units
from connector.threat_intel.indicators import canonical_value
from tests.threat_intel.support import load, write_feed


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, k)]
    if isinstance(value, list):
        return [pair for item in value for pair in _strings(item, key)]
    return [(key, value)] if isinstance(value, str) else []


def test_every_match_in_the_demo_day_passes_the_byte_test(
        tmp_path: Path, processor: RecordProcessor, demo_estate: tuple[Path, DemoManifest]) -> None:
    root, _manifest = demo_estate
    encoded: list[bytes] = []
    for unit in local_units([str(root)]):
        for item in processor.process(unit):
            if isinstance(item, NormalizedChunk):
                encoded.extend(item.encoded)
    datasets = {orjson.loads(doc)["event"]["dataset"] for doc in encoded}
    assert datasets == {"aws.vpcflow", "aws.cloudtrail", "aws.config"}
    # Every 3rd distinct address or host-like value anywhere in the documents is listed.
    values = sorted({text for doc in encoded for key, text in _strings(orjson.loads(doc))
                     if key in ("ip", "address", "server_name") and canonical_value(text)})
    listed = values[::3]
    assert len(listed) > 20
    intel = load(write_feed(tmp_path, "demo.txt", "\n".join(listed) + "\n"))
    matched = 0
    for data in encoded:
        doc = orjson.loads(data)
        if intel.enrich(doc):
            matched += 1
            assert intel.might_match(data), data[:300]
    assert matched > 0
    batch = list(encoded)
    assert intel.enrich_encoded(batch) == matched
