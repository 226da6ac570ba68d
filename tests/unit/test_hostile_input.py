"""Hostile input, one case each (records nested too deeply, lines longer than a record may be, numbers
and times beyond what a platform holds, JSON a parser refuses, lone surrogates, objects without
records): no exception escapes and each record is written, skipped by a named rule, or dead-lettered
on its own while its neighbours flow. The property tests (tests/properties) try such input at volume."""

from __future__ import annotations

import io
import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from connector.config import AppConfig
from connector.dlq import DeadLetterStore, dead_letter_json
from connector.formats.base import EMPTY_RULE, OverlongLine, iter_line_blocks, json_lines
from connector.normalize.timestamps import EpochFormatter
from connector.normalize.vpcflow import record_id_prefix
from connector.pipeline import RecordProcessor
from connector.sinks.base import DeadLetter
from connector.sources.cloudwatch_payload import subscription_unit
from connector.sources.s3 import S3OversizedFetcher
from connector.sources.sqs import Unreadable, parse_message
from tests.unit._support import FLOW_KEY, V2_HEADER, assert_accounted, gz, process, run_pipeline, unit, v2_line

TRAIL_KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_us-east-1_x.json.gz"
CONFIG_KEY = "AWSLogs/111122223333/Config/us-east-1/2026/11/27/ConfigHistory/111122223333_Config_x.json.gz"
ITEM = {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-0123", "configurationStateId": 1,
        "configurationItemCaptureTime": "2026-11-27T10:00:00.000Z", "configurationItemStatus": "OK"}


def _trail(event_id: str, **fields: object) -> dict[str, object]:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-11-27T10:00:00Z", **fields}


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_a_cloudtrail_record_nested_beyond_the_recursion_limit_is_dead_lettered_alone(processor):
    deep = json.dumps(_trail("deep"))[:-1] + f', "requestParameters": {_nested(1_000)}}}'
    body = "\n".join([json.dumps(_trail("a")), deep, json.dumps(_trail("b"))]).encode()
    summary, sink, dlq = run_pipeline(processor, [unit(body, TRAIL_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["event"]["id"] for d in sink.docs] == ["a", "b"]
    assert [d.location for d in dlq.letters] == ["record 2"]


@pytest.mark.parametrize("record", [
    json.loads(_nested(250)) | {"deeper": orjson.loads(_nested(600))},  # beyond orjson's 254 levels
    "a lone surrogate \ud800 in a raw line",
    {"configurationStateId": 2**70},
], ids=["nested", "surrogate", "beyond-64-bits"])
def test_the_dead_letter_store_writes_records_orjson_cannot(tmp_path, record):
    store = DeadLetterStore(str(tmp_path / "dead.ndjson"))
    store.write([DeadLetter(record, "unreadable \ud800 record", "s3://b/\udcff", "line 1")])
    store.close()
    (entry,) = [orjson.loads(line) for line in (tmp_path / "dead.ndjson").read_bytes().splitlines()]
    assert entry["location"] == "line 1" and entry["reason"].startswith("unreadable")
    assert isinstance(entry["record"], str) and entry["record"]
    assert dead_letter_json(DeadLetter(record, "r", "o")).endswith(b"\n")


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_a_10_mb_flow_line_is_dead_lettered_alone_and_the_lines_around_it_flow(processor, compress):
    body = "\n".join([V2_HEADER, v2_line(dport=1), "2 " * (5 * 1024 * 1024), v2_line(dport=2)]).encode()
    summary, sink, dlq = run_pipeline(processor, [unit(gz(body) if compress else body, FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["destination"]["port"] for d in sink.docs] == [1, 2]
    (letter,) = dlq.letters
    assert letter.location == "line 3" and "10485760 bytes" in letter.reason
    assert len(letter.record) == 64 * 1024


def test_overlong_lines_are_passed_over_one_by_one():
    blocks = list(iter_line_blocks([b"1\n" + b"x" * 40, b"x" * 40 + b"\n2\n" + b"y" * 50], 30))
    assert blocks == [["1"], OverlongLine("x" * 40, 80, 30), ["2"], OverlongLine("y" * 50, 50, 30)]
    items = list(json_lines(blocks, "o"))
    assert [item.location if isinstance(item, DeadLetter) else item[1] for item in items] == [
        1, "line 2", 2, "line 4"]


def test_a_flow_object_with_a_header_and_no_record_is_skipped_as_empty(processor):
    summary, _sink, _dlq = run_pipeline(processor, [unit((V2_HEADER + "\n").encode(), FLOW_KEY)])
    assert (summary.read, summary.skipped_by_rule[EMPTY_RULE]) == (1, 1)


def test_a_parquet_object_without_rows_is_skipped_as_empty(processor):
    sink = io.BytesIO()
    pq.write_table(pa.table({"srcaddr": pa.array([], pa.string())}), sink)
    summary, _sink, _dlq = run_pipeline(processor, [unit(sink.getvalue(), FLOW_KEY.replace(".gz", ".parquet"))])
    assert (summary.read, summary.skipped_by_rule[EMPTY_RULE]) == (1, 1)


def test_a_number_beyond_64_bits_on_the_general_path_is_dead_lettered_alone(processor):
    # "-" in a text field sends the record through the general path, which builds a document.
    lines = [V2_HEADER, v2_line(eni="-", nbytes=2**64), v2_line(eni="-", dport=7)]
    summary, sink, dlq = run_pipeline(processor, [unit("\n".join(lines).encode(), FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["destination"]["port"] for d in sink.docs] == [7]
    assert [d.location for d in dlq.letters] == ["line 2"] and "64-bit" in dlq.letters[0].reason


@pytest.mark.parametrize("end", ["72057594037927936", "4611686018427387904", "18446744073709551616"])
def test_epoch_seconds_the_platform_cannot_place_are_dead_lettered_alone(processor, end):
    # The first record takes the fast path, the second (a "-" in a text field) the general path.
    lines = [V2_HEADER, v2_line().replace("1700000060", end), v2_line(eni="-").replace("1700000060", end),
             v2_line(dport=9)]
    summary, sink, dlq = run_pipeline(processor, [unit("\n".join(lines).encode(), FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["destination"]["port"] for d in sink.docs] == [9]
    assert sorted(d.location for d in dlq.letters) == ["line 2", "line 3"]
    with pytest.raises(ValueError, match="out of the range of epoch seconds"):
        EpochFormatter().convert(end)


def test_a_header_field_that_is_no_python_name_still_maps(processor):
    header = V2_HEADER.replace("log-status", "log-status x(y.z a..b")
    summary, sink, dlq = run_pipeline(processor, [unit(f"{header}\n{v2_line()} 1 2\n".encode(), FLOW_KEY)])
    assert_accounted(summary, sink, dlq)
    assert sink.docs[0]["aws"]["vpcflow"]["x(y"] == {"z": "1"}


@pytest.mark.parametrize("body", [b'{"eventVersion": "x", "Records": []}',
                                  json.dumps(_trail("a")).encode() + b'\n{"Records": []}\n'],
                         ids=["records-not-first", "one-per-line"])
def test_a_cloudtrail_document_without_records_is_skipped_as_empty(processor, body):
    summary, sink, dlq = run_pipeline(processor, [unit(body, TRAIL_KEY)])
    assert_accounted(summary, sink, dlq)
    assert summary.skipped_by_rule[EMPTY_RULE] == 1 and summary.read == 1 + summary.written


def test_a_record_that_is_not_json_is_dead_lettered_alone_and_the_records_after_it_flow(processor):
    records = [json.dumps(_trail(f"r{n}", x=1)) for n in range(4)]
    records[1] = records[1].replace('"x": 1', '"x": 1e400')
    body = gz('{"Records": [' + ",".join(records) + "]}")
    summary, sink, dlq = run_pipeline(processor, [unit(body, TRAIL_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["event"]["id"] for d in sink.docs] == ["r0", "r2", "r3"]
    (letter,) = dlq.letters
    assert letter.location == "record 2" and "1e400" in letter.record and "invalid JSON" in letter.reason


def test_the_records_array_ending_inside_a_record_dead_letters_that_record(processor):
    body = ('{"Records": [' + json.dumps(_trail("r0")) + "," + json.dumps(_trail("r1"))[:-12]).encode()
    summary, sink, dlq = run_pipeline(processor, [unit(body, TRAIL_KEY)])
    assert_accounted(summary, sink, dlq)
    assert [d["event"]["id"] for d in sink.docs] == ["r0"]
    assert [d.location for d in dlq.letters] == ["record 2"]


def test_an_empty_config_history_is_skipped_as_empty(processor):
    summary, _sink, _dlq = run_pipeline(processor, [unit(b'{"configurationItems": []}', CONFIG_KEY)])
    assert (summary.read, summary.skipped_by_rule[EMPTY_RULE]) == (1, 1)


def test_a_config_history_that_is_not_json_keeps_its_good_items(processor):
    # The second item's JSON escapes a lone surrogate: no JSON parser takes the document whole.
    good = json.dumps(ITEM)
    items = [good, good.replace("sg-0123", "sg-\\ud800"), good.replace("sg-0123", "sg-4567")]
    body = '{"fileVersion": "1.0", "configurationItems": [' + ", ".join(items) + "]}"
    summary, sink, dlq = run_pipeline(processor, [unit(body.encode(), CONFIG_KEY)])
    assert_accounted(summary, sink, dlq)
    assert len(sink.docs) == 2
    assert [d.location for d in dlq.letters] == ["record 2"] and "\\ud800" in dlq.letters[0].record


class _NoS3:
    def get_object(self, Bucket: str, Key: str) -> None:
        raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")


@pytest.mark.parametrize("location", [["bucket", "key"], {"b": 1}, 7])
def test_an_oversized_pointer_whose_location_is_not_text_is_dead_lettered(location):
    proc = RecordProcessor(AppConfig(), fetch_oversized=S3OversizedFetcher(_NoS3()))
    try:
        doc = {"messageType": "OversizedConfigurationItemChangeNotification",
               "s3DeliverySummary": {"s3BucketLocation": location}}
        out = process(proc, json.dumps(doc).encode(), "sqs/m-1", "config")
    finally:
        proc.close()
    assert not out.docs and len(out.dead) == 1 and "s3BucketLocation" in out.dead[0].reason


@pytest.mark.parametrize("body", ["\ud800", '{"Records": "\udfff"}'])
def test_an_sqs_body_with_a_lone_surrogate_is_unreadable_not_an_exception(body):
    assert isinstance(parse_message(body, "m-1"), Unreadable)


def test_a_subscription_event_with_a_lone_surrogate_still_gives_a_unit(processor):
    page = {"messageType": "DATA_MESSAGE", "logGroup": "/vpc/flowlogs\udcff", "logStream": "s",
            "logEvents": [{"id": "1", "message": v2_line()}, {"id": "2", "message": "2 \ud800"}]}
    work = subscription_unit(page)
    out = process(processor, work.open().read(), work.key, "vpcflow")  # type: ignore[union-attr]
    assert (len(out.docs), len(out.dead)) == (1, 1)
    assert record_id_prefix("downloads/\udcff.log").endswith("-")
