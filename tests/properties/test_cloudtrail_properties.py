"""CloudTrail objects of every shape, with hostile records: nothing escapes, every record is settled.

Shapes: ``{"Records": [...]}`` (compact, spaced or indented; ``Records`` first or not), a single
record, one record per line (NDJSON, CloudWatch Logs exports); gzip-compressed or plain.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from connector.pipeline import RecordProcessor
from tests.properties.settling import memory_unit, settle
from tests.properties.strategies import (
    Generated,
    deep_json,
    encode_json,
    json_styles,
    json_values,
    maybe_gzip,
    trail_records,
    trail_units,
)

TRAIL_KEY = ("AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/"
             "123456789012_CloudTrail_us-east-1_20240501T1200Z_AbCdEf0123456789.json.gz")
RECORD = {"eventVersion": "1.08", "eventID": "3f0e1c2a-0000-4000-8000-000000000001",
          "eventTime": "2024-05-01T12:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
          "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.20", "recipientAccountId": "123456789012"}
TEN_MB = 10 * 1024 * 1024


def _record_with(field: str, raw_value: str) -> str:
    """The record's JSON text with ``field`` holding ``raw_value`` (JSON text no encoder writes)."""
    return json.dumps(RECORD)[:-1] + f', "{field}": {raw_value}}}'


@st.composite
def records_documents(draw: st.DrawFn) -> Generated:
    """``{"Records": [...]}``, sometimes with other keys before ``Records``."""
    records = draw(st.lists(trail_records(), max_size=12))
    doc: dict[str, Any] = {"Records": records}
    style = draw(json_styles)
    data = encode_json(doc, style)
    if draw(st.booleans()):
        # Records after another key: only where the document is JSON. A document that is not
        # is read record by record where the Records array opens it, as CloudTrail writes it.
        other = encode_json({"digestS3Object": draw(json_values(2)), **doc}, style)
        data = other if _is_json(other) else data
    return Generated(maybe_gzip(data, draw(st.booleans())), len(records) or 1)


def _is_json(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


@st.composite
def single_records(draw: st.DrawFn) -> Generated:
    """One record (or any JSON value) as the whole object; spread over lines only where it is
    JSON (text that is neither one JSON value nor one per line has no records to tell apart)."""
    value = draw(trail_records())
    data = encode_json(value, draw(json_styles))
    if b"\n" in data and not _is_json(data):
        data = encode_json(value, "spaced")
    return Generated(maybe_gzip(data, draw(st.booleans())), trail_units(value))


@st.composite
def record_lines(draw: st.DrawFn) -> Generated:
    """One record per line; some lines damaged, blank or of another shape."""
    values = draw(st.lists(trail_records(), min_size=1, max_size=12))
    lines: list[bytes] = []
    units = 0
    for value in values:
        text = encode_json(value, draw(st.sampled_from(["compact", "spaced", "raw-surrogates"])))
        damage = draw(st.sampled_from(["none"] * 5 + ["cut", "blank", "junk"]))
        if damage == "cut" and len(text) > 1:
            lines.append(text[: draw(st.integers(1, len(text) - 1))])
            units += 1
        elif damage == "blank":
            lines.append(b"   ")
        elif damage == "junk":
            lines.append(draw(st.binary(min_size=1, max_size=40)).replace(b"\n", b"") or b"x")
            units += 1
        else:
            lines.append(text)
            units += trail_units(value)
    data = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    # A line of damaged bytes can decode to whitespace only: no record there.
    units -= sum(1 for line in lines if not line.decode("utf-8", "replace").strip() and line != b"   ")
    return Generated(maybe_gzip(data, draw(st.booleans())), units or 1)


@given(st.one_of(records_documents(), single_records(), record_lines()))
@example(Generated(b'{"Records": [' + _record_with("requestParameters", deep_json(10_000)).encode() + b"]}", 1,
                   "a record nested 10,000 deep"))
@example(Generated(_record_with("requestParameters", deep_json(1_000)).encode(), 1,
                   "a record nested 1,000 deep (within the parser's limit, beyond the recursion limit)"))
@example(Generated(("\n".join([json.dumps(RECORD), _record_with("responseElements", deep_json(600)),
                               _record_with("requestParameters", deep_json(300))]) + "\n").encode(), 3,
                   "records nested beyond the encoder's limit, one per line"))
@example(Generated(b'{"Records": [' + b",".join(_record_with("x", v).encode() for v in (
    "18446744073709551616", "-9223372036854775809", "1e400", "123456789012345678901234567890")) + b"]}", 4,
                   "numbers beyond 64 bits and beyond double precision"))
@example(Generated(maybe_gzip(json.dumps(RECORD).encode() + b"\n" + _record_with("userAgent", json.dumps(
    "x" * TEN_MB)).encode() + b"\n" + json.dumps(RECORD).encode() + b"\n", True), 3, "a 10 MB line"))
@example(Generated(json.dumps({**RECORD, "userAgent": "\x00\ud800"}).encode() + b"\n" + json.dumps(
    {**RECORD, "userAgent": "\udfff"}, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n", 2,
                   "NUL and lone surrogates, escaped and raw"))
@example(Generated(b"\xff\xfe\x00{\x00\"\x00R\x00", 1, "bytes that are not UTF-8"))
@example(Generated(b'{"Records": []}', 1, "no records"))
@example(Generated(b'{"x": 1, "Records": []}', 1, "no records, Records not first"))
@example(Generated(json.dumps(RECORD).encode() + b'\n{"Records": []}\n', 2, "no records on a line"))
def test_cloudtrail_objects_settle_every_record(processor: RecordProcessor, generated: Generated) -> None:
    settle(processor, [memory_unit(generated.data, TRAIL_KEY)]).assert_accounts_for(generated.units)


@given(st.lists(trail_records(), min_size=1, max_size=8), st.booleans())
def test_kept_originals_settle_like_documents(dropping_processor: RecordProcessor, records: list[Any],
                                             lines: bool) -> None:
    """With the raw record kept beside each document (``normalize.keep_original``, Splunk TA mode)."""
    if lines:
        data = b"\n".join(encode_json(r, "compact") for r in records)
    else:
        data = encode_json({"Records": records}, "compact")
    units = sum(trail_units(r) for r in records) if lines else len(records)
    settle(dropping_processor, [memory_unit(data, TRAIL_KEY)]).assert_accounts_for(units)
