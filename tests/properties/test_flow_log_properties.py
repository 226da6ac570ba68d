"""Flow logs of every layout, with hostile values: nothing escapes, every line is settled.

Layouts: an S3 object with the default v2 header or a header in any order (names AWS does not
write included), headerless lines read in the documented order or a configured format, JSON
lines carrying a ``message``, Parquet columns.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import example, given
from hypothesis import strategies as st

from connector.pipeline import RecordProcessor
from tests.properties.settling import memory_unit, settle
from tests.properties.strategies import (
    V2_LAYOUT,
    Generated,
    blank,
    flow_line,
    flow_objects,
    flow_value,
    headerless_flow_objects,
    hostile_token,
    layouts,
    maybe_gzip,
)

FLOW_KEY = ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/"
            "123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1200Z_5f1c2e3d.log.gz")
V2_HEADER = " ".join(V2_LAYOUT)
GOOD_LINE = "2 123456789012 eni-1 10.0.0.5 203.0.113.9 49152 443 6 10 840 1714564800 1714564860 ACCEPT OK"
TEN_MB = 10 * 1024 * 1024


def _object(*lines: str | bytes) -> bytes:
    return b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n"


@given(flow_objects(), st.booleans())
@example(Generated(_object(V2_HEADER, GOOD_LINE, "2" * TEN_MB, GOOD_LINE), 3, "a 10 MB line between two records"),
         False)
@example(Generated(maybe_gzip(_object(V2_HEADER, GOOD_LINE, "2 " * (TEN_MB // 2), GOOD_LINE), True), 3,
                   "a 10 MB line of fields, gzip"), False)
@example(Generated(_object(V2_HEADER, GOOD_LINE.replace("eni-1", "eni-\x00\x00"), "\x00" * 64, "2\x00 1"), 3,
                   "NUL bytes"), True)
@example(Generated(_object(V2_HEADER, b"2 123456789012 eni-\xff\xfe 10.0.0.5 10.0.0.6 1 2 6 1 1 1714564800 "
                                      b"1714564860 ACCEPT \xc3\x28", b"\xed\xa0\x80 \xf4\x90\x80\x80", GOOD_LINE),
                   3, "bytes that are not UTF-8"), False)
@example(Generated(_object(V2_HEADER), 1, "a header and no record"), False)
@example(Generated(_object(V2_HEADER, *(GOOD_LINE.replace("1714564860", end) for end in (
    "72057594037927936", "4611686018427387904", "18446744073709551616", "-4611686018427387904"))), 4,
                   "epoch seconds beyond what the platform can place"), False)
def test_objects_with_a_header_settle_every_record(processor: RecordProcessor,
                                                    dropping_processor: RecordProcessor,
                                                    generated: Generated, drop_nodata: bool) -> None:
    proc = dropping_processor if drop_nodata else processor
    settled = settle(proc, [memory_unit(generated.data, FLOW_KEY)])
    settled.assert_accounts_for(generated.units or 1)


@given(st.one_of(st.none(), layouts).flatmap(lambda layout: st.tuples(
    st.just(layout), headerless_flow_objects(layout or V2_LAYOUT))), st.booleans())
@example((None, Generated(b'{"message": "' + b"2 " * (TEN_MB // 2) + b'"}\n' + GOOD_LINE.encode(), 2,
                          "a 10 MB JSON line")), False)
@example((None, Generated(json.dumps({"message": GOOD_LINE.replace(" OK", " \ud800")}).encode() + b"\n"
                          + b'{"message": "\\ud800 \\udfff"}\n' + b'{"message": "2\\u0000 1"}', 3,
                          "escaped surrogates and NUL in JSON lines")), False)
@example((None, Generated(b'{"message":' * 10_000 + b'""' + b"}" * 10_000 + b"\n" + GOOD_LINE.encode(), 2,
                          "JSON nested 10,000 deep")), False)
def test_headerless_lines_in_a_configured_or_documented_layout_settle(
        processor: RecordProcessor, dropping_processor: RecordProcessor,
        case: tuple[tuple[str, ...] | None, Generated], drop_nodata: bool) -> None:
    layout, generated = case
    proc = dropping_processor if drop_nodata else processor
    fmt = " ".join("${" + name + "}" for name in layout) if layout is not None else None
    unit = memory_unit(generated.data, "logs/stream-export.log", type_hint="vpcflow", vpcflow_format=fmt)
    settle(proc, [unit]).assert_accounts_for(generated.units)


@st.composite
def parquet_objects(draw: st.DrawFn) -> Generated:
    """A Parquet flow-log object: the columns of a layout, text or integer typed, with nulls and
    hostile values."""
    layout = draw(layouts)
    rows = draw(st.integers(0, 20))
    columns: dict[str, pa.Array] = {}
    for name in layout:
        as_int = draw(st.booleans())
        if as_int:
            values: list[object] = draw(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
                                                 min_size=rows, max_size=rows))
            columns[name.replace("-", "_")] = pa.array(values, type=pa.int64())
        else:
            texts = draw(st.lists(st.one_of(st.none(), flow_value(name), hostile_token), min_size=rows,
                                  max_size=rows))
            columns[name.replace("-", "_")] = pa.array(
                [t.encode("utf-8", "replace").decode() if t is not None else None for t in texts], type=pa.string())
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return Generated(sink.getvalue(), rows or 1)


@given(parquet_objects(), st.booleans())
@example(Generated(b"PAR1" + b"\x00" * 100 + b"PAR1", 1, "junk between Parquet magic"), False)
@example(Generated(b"PAR1", 1, "Parquet magic alone"), True)
def test_parquet_objects_settle_every_row(processor: RecordProcessor, dropping_processor: RecordProcessor,
                                          generated: Generated, drop_nodata: bool) -> None:
    proc = dropping_processor if drop_nodata else processor
    key = FLOW_KEY.replace(".log.gz", ".log.parquet")
    settle(proc, [memory_unit(generated.data, key)]).assert_accounts_for(generated.units)


@given(st.lists(flow_line(V2_LAYOUT), min_size=1, max_size=5), st.integers(1, 3))
def test_a_stream_of_objects_settles_object_by_object(processor: RecordProcessor, lines: list[str],
                                                      copies: int) -> None:
    """Several objects in one run: the counts of each add up, whatever the others hold."""
    text = "\n".join([V2_HEADER, *lines]).encode("utf-8", "surrogatepass")
    units = [memory_unit(text, f"{FLOW_KEY}.{n}") for n in range(copies)]
    records = sum(1 for line in text.decode("utf-8", "replace").split("\n")[1:] if not blank(line))
    settle(processor, units).assert_accounts_for(copies * (records or 1))
