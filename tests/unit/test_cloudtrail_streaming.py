"""Large CloudTrail ``{"Records": [...]}`` objects are read record by record, exactly."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from connector.formats.base import RawBatch, Skipped
from connector.formats.cloudtrail import CloudTrailReader
from connector.sinks.base import DeadLetter
from tests.faults import Reconciliation


def _records(n: int, nested_every: int = 7) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        rec: dict[str, object] = {
            "eventVersion": "1.09", "eventID": f"id-{i}", "eventTime": "2026-11-27T00:00:00Z", "eventName": "Describe",
            "requestParameters": {"note": 'quote " and },{"eventVersion"'},
        }
        if i % nested_every == 3:  # an embedded object that starts like a record: the cut must not split it
            rec["responseElements"] = {"items": [{"x": 1}, {"eventVersion": "nested"}]}
        out.append(rec)
    return out


def _read(data: bytes) -> tuple[list[dict[str, object]], list[DeadLetter], list[Skipped]]:
    records: list[dict[str, object]] = []
    dead: list[DeadLetter] = []
    skipped: list[Skipped] = []
    for item in CloudTrailReader().read(io.BytesIO(data), "AWSLogs/1/CloudTrail/us-east-1/2026/11/27/x.json.gz"):
        if isinstance(item, RawBatch):
            records.extend(item.records)
        elif isinstance(item, DeadLetter):
            dead.append(item)
        else:
            skipped.append(item)
    return records, dead, skipped


def test_compact_and_pretty_documents_yield_every_record_in_order() -> None:
    recs = _records(5000)
    for text in (json.dumps({"Records": recs}, separators=(",", ":")), json.dumps({"Records": recs}, indent=2)):
        got, dead, _ = _read(gzip.compress(text.encode()))
        assert not dead
        assert got == recs


def test_buffers_with_and_without_a_misleading_cut_yield_every_record_in_order() -> None:
    # Most buffers parse as one array; the few holding a nested "eventVersion" object go piece by piece.
    recs = _records(30000, nested_every=9000)
    got, dead, _ = _read(gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode()))
    assert not dead
    assert got == recs


@pytest.mark.faults
def test_truncated_records_document_delivers_what_came_before_the_damage() -> None:
    recs = _records(20000)
    data = gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode())
    got, dead, _ = _read(data[: len(data) // 2])
    assert 0 < len(got) < len(recs)
    assert got == recs[: len(got)]
    assert len(dead) == 1 and "truncated gzip" in dead[0].reason
    # The dead letter stands for every record after the last one read ("after record N").
    after = int(dead[0].location.split()[-1])
    Reconciliation.of("cloudtrail-records-truncated-gzip", [str(r["eventID"]) for r in recs],
                      [str(r["eventID"]) for r in got],
                      [str(r["eventID"]) for r in recs[after:]]).assert_nothing_lost()


def test_empty_records_array_is_skipped_as_empty() -> None:
    got, dead, skipped = _read(b'{"Records":[]}')
    assert got == [] and not dead and [s.rule for s in skipped] == ["empty object"]
