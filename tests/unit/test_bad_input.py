"""DESIGN.md "Bad input": every damaged or unexpected object gets a clear, counted outcome, never a crash."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable

import pytest

from connector.formats.cloudtrail import EMPTY_RULE
from connector.normalize.vpcflow import record_id_prefix
from connector.pipeline import RunSummary
from tests.faults import Reconciliation
from tests.unit._support import (
    FLOW_KEY,
    V2_HEADER,
    MemoryDlq,
    MemorySink,
    assert_accounted,
    gz,
    run_pipeline,
    unit,
    v2_line,
)

pytestmark = pytest.mark.faults
Unit = tuple[str, dict[int, str]]  # an object's key and its records' ids by line (or record) number

TRAIL_KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_us-east-1_x.json.gz"
CONFIG_KEY = "AWSLogs/111122223333/Config/us-east-1/2026/11/27/ConfigHistory/111122223333_Config_x.json.gz"
S3_TEST_EVENT = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-27T10:00:00.000Z",
                 "Bucket": "acme-security-logs", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8"}


def _kind(key: str) -> str:
    return {FLOW_KEY: "vpcflow", TRAIL_KEY: "cloudtrail", CONFIG_KEY: "config"}.get(key, "unknown")


def flow_object(n: int) -> bytes:
    lines = [V2_HEADER] + [v2_line(dst=f"10.9.{i // 250}.{i % 250}", dport=i % 60000 + 1) for i in range(n)]
    return gz("\n".join(lines) + "\n")


def records(key: str, numbers: range, ids: Callable[[int], str] | None = None) -> Unit:
    """An object's records: flow lines get the deterministic id of their line."""
    prefix = record_id_prefix(key)
    return key, {n: ids(n) if ids else f"{prefix}{n}" for n in numbers}


def whole(key: str) -> Unit:
    """An object that holds no record: the object itself must end skipped or dead-lettered."""
    return key, {}


def reconcile(scenario: str, units: list[Unit], summary: RunSummary, sink: MemorySink, dlq: MemoryDlq) -> None:
    """Print and check the scenario line: each dead letter stands for its line or record, for the
    rest of its object after where reading stopped ("after line N"), or for its whole object."""
    by_key = dict(units)
    source = [i for key, numbered in units for i in (list(numbered.values()) or [key])]
    dead: list[str] = []
    for letter in dlq.letters:
        numbered = by_key[letter.origin]
        words = letter.location.split()
        if not numbered:
            dead.append(letter.origin)
        elif words[:1] in (["line"], ["record"]):
            dead.append(numbered[int(words[1])])
        elif words[:1] == ["after"]:
            dead += [i for n, i in numbered.items() if n > int(words[-1])]
        else:
            dead += numbered.values()
    skipped = [key for key, numbered in units if not numbered][: summary.skipped]
    Reconciliation.of(scenario, source, [d["event"]["id"] for d in sink.docs], dead, skipped).assert_nothing_lost()


def _gzip_stream(piece: bytes, repeat: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([comp.compress(piece) for _ in range(repeat)] + [comp.flush()])


@pytest.fixture(scope="module")
def zero_bomb() -> bytes:
    """200 MB of zeros without a newline, gzip-compressed to about 200 KB."""
    return _gzip_stream(b"\0" * (1 << 20), 200)


@pytest.fixture(scope="module")
def blank_line_bomb() -> bytes:
    """100 MB of blank 1 KB lines (each short enough to pass the line limit), about 1000:1."""
    return _gzip_stream((b" " * 1023 + b"\n") * 1024, 100)


def test_truncated_gzip_delivers_records_before_the_damage_and_the_next_file_flows(processor):
    whole = flow_object(5000)
    truncated = whole[: len(whole) // 2]
    summary, sink, dlq = run_pipeline(processor, [unit(truncated, FLOW_KEY), unit(flow_object(3), FLOW_KEY + ".2")])
    assert_accounted(summary, sink, dlq)
    assert len(dlq.letters) == 1
    letter = dlq.letters[0]
    assert "truncated gzip" in letter.reason and letter.origin == FLOW_KEY
    assert letter.location.startswith("after line ")
    delivered_before = int(letter.location.rsplit(" ", 1)[1]) - 1
    assert 0 < summary.written - 3 <= delivered_before
    assert summary.written - 3 > 1000  # a good share of the records before the damage
    assert summary.objects == 2
    assert [d["destination"]["port"] for d in sink.docs[-3:]] == [1, 2, 3]
    reconcile("truncated-gzip-vpcflow", [records(FLOW_KEY, range(2, 5002)), records(FLOW_KEY + ".2", range(2, 5))],
              summary, sink, dlq)


def test_truncated_gzip_cloudtrail_object_is_one_dead_letter(processor):
    body = gz(json.dumps({"Records": [{"eventVersion": "1.08", "eventID": f"a{n}", "eventTime": "2026-11-27T10:00:00Z"}
                                      for n in range(50)]}))
    summary, sink, dlq = run_pipeline(processor, [unit(body[:-30], TRAIL_KEY)])
    assert_accounted(summary, sink, dlq)
    assert summary.dead_lettered == 1 and "truncated gzip" in dlq.letters[0].reason
    reconcile("truncated-gzip-cloudtrail", [records(TRAIL_KEY, range(1, 51), lambda n: f"a{n - 1}")], summary, sink,
              dlq)


@pytest.mark.parametrize("key", [FLOW_KEY, TRAIL_KEY, CONFIG_KEY])
def test_corrupt_gzip_is_dead_lettered_and_the_next_file_flows(processor, key):
    good = flow_object(50)
    corrupt = good[:20] + bytes(b ^ 0xFF for b in good[20:80]) + good[80:]
    summary, sink, dlq = run_pipeline(processor, [unit(corrupt, key), unit(flow_object(2), FLOW_KEY + ".next")])
    assert_accounted(summary, sink, dlq)
    assert len(dlq.letters) == 1 and "corrupt gzip" in dlq.letters[0].reason
    assert dlq.letters[0].origin == key
    assert summary.written == 2
    reconcile(f"corrupt-gzip-{_kind(key)}", [records(key, range(2, 52)), records(FLOW_KEY + ".next", range(2, 4))],
              summary, sink, dlq)


@pytest.mark.parametrize("key", [TRAIL_KEY, CONFIG_KEY])
@pytest.mark.parametrize("data", [b"", gz(b"")], ids=["plain", "gzip"])
def test_empty_object_is_skipped_and_counted(processor, key, data):
    summary, sink, dlq = run_pipeline(processor, [unit(data, key)])
    assert (summary.read, summary.skipped, summary.written, summary.dead_lettered) == (1, 1, 0, 0)
    assert summary.skipped_by_rule[EMPTY_RULE] == 1
    reconcile(f"empty-object-{_kind(key)}-{'gzip' if data else 'plain'}", [whole(key)], summary, sink, dlq)


@pytest.mark.parametrize("data", [b"", gz(b"")], ids=["plain", "gzip"])
def test_empty_flow_log_object_is_skipped_and_counted(processor, data):
    summary, sink, dlq = run_pipeline(processor, [unit(data, FLOW_KEY)])
    assert (summary.read, summary.skipped, summary.written, summary.dead_lettered) == (1, 1, 0, 0)
    reconcile(f"empty-object-vpcflow-{'gzip' if data else 'plain'}", [whole(FLOW_KEY)], summary, sink, dlq)


def test_empty_object_of_unknown_type_is_skipped_and_counted(processor):
    summary, sink, dlq = run_pipeline(processor, [unit(b"", "downloads/empty")])
    assert (summary.read, summary.skipped) == (1, 1)
    reconcile("empty-object-unknown-type", [whole("downloads/empty")], summary, sink, dlq)


@pytest.mark.parametrize(("key", "hint"), [("s3-test-event.json", None), (TRAIL_KEY, None),
                                           (CONFIG_KEY, None), ("s3-test-event.json", "cloudtrail")])
def test_s3_test_event_is_skipped_or_dead_lettered_with_a_reason(processor, key, hint):
    summary, sink, dlq = run_pipeline(processor, [unit(json.dumps(S3_TEST_EVENT).encode(), key, hint)])
    assert_accounted(summary, sink, dlq)
    assert summary.written == 0 and summary.read == 1
    assert summary.skipped + summary.dead_lettered == 1
    for letter in dlq.letters:
        assert letter.reason and letter.origin == key
    reconcile(f"s3-test-event-{_kind(key) if hint is None else 'forced-' + hint}", [whole(key)], summary, sink, dlq)


@pytest.mark.parametrize("key", [FLOW_KEY, TRAIL_KEY, CONFIG_KEY])
def test_decompression_bomb_without_newlines_is_refused_and_the_next_file_flows(processor, zero_bomb, key):
    summary, sink, dlq = run_pipeline(processor, [unit(zero_bomb, key), unit(flow_object(2), FLOW_KEY + ".next")])
    assert_accounted(summary, sink, dlq)
    assert len(dlq.letters) == 1
    assert "decompression bomb refused" in dlq.letters[0].reason
    assert dlq.letters[0].record is None
    assert summary.written == 2
    reconcile(f"decompression-bomb-{_kind(key)}", [whole(key), records(FLOW_KEY + ".next", range(2, 4))], summary,
              sink, dlq)


def test_decompression_bomb_of_short_lines_is_refused_by_expansion_ratio(processor, blank_line_bomb):
    summary, sink, dlq = run_pipeline(processor, [unit(blank_line_bomb, FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert len(dlq.letters) == 1 and "ratio over 400:1" in dlq.letters[0].reason
    reconcile("decompression-bomb-of-blank-lines", [whole(FLOW_KEY)], summary, sink, dlq)


def test_mixed_bad_flow_records_are_each_accounted(processor):
    lines = [V2_HEADER,
             v2_line(),
             v2_line() + " 7",  # wrong field count
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA",
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - SKIPDATA",
             v2_line(src="2001:db8::5", dst="2606:4700:4700::1111"),
             v2_line(proto=1, sport=0, dport=0),
             v2_line(sport="abc")]
    summary, sink, dlq = run_pipeline(processor, [unit(gz("\n".join(lines)), FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert (summary.read, summary.written, summary.dead_lettered) == (7, 5, 2)
    assert sorted(d.location for d in dlq.letters) == ["line 3", "line 8"]
    reconcile("mixed-bad-flow-records", [records(FLOW_KEY, range(2, 9))], summary, sink, dlq)


@pytest.mark.parametrize(("field", "values", "reason"), [
    ("sport", ["70000", "-1"], "srcport is out of range (0-65535)"),
    ("dport", ["65536"], "dstport is out of range (0-65535)"),
    ("proto", ["256", "-6"], "protocol is out of range (0-255)"),
])
def test_out_of_range_ports_and_protocols_are_dead_lettered_with_the_field(processor, field, values, reason):
    # No such record exists in AWS's output, but a damaged one must not stop the run.
    lines = [V2_HEADER, v2_line(), *(v2_line(**{field: value}) for value in values), v2_line(sport=65535)]
    summary, sink, dlq = run_pipeline(processor, [unit(gz("\n".join(lines)), FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert (summary.written, summary.dead_lettered) == (2, len(values))
    assert all(reason in d.reason for d in dlq.letters), [d.reason for d in dlq.letters]
    reconcile(f"out-of-range-{field}", [records(FLOW_KEY, range(2, len(lines) + 1))], summary, sink, dlq)


def test_wrong_shape_json_documents_are_dead_lettered_per_format(processor):
    units = [unit(json.dumps({"hello": "world"}).encode(), TRAIL_KEY),
             unit(json.dumps({"hello": "world"}).encode(), CONFIG_KEY),
             unit(json.dumps(["a"]).encode(), "x.json", "cloudtrail")]
    summary, sink, dlq = run_pipeline(processor, units)
    assert_accounted(summary, sink, dlq)
    assert (summary.dead_lettered, summary.written, summary.objects) == (3, 0, 3)
    reconcile("wrong-shape-json-documents", [whole(TRAIL_KEY), whole(CONFIG_KEY), whole("x.json")], summary, sink,
              dlq)
