"""VPC (and Transit Gateway) flow logs: S3 text objects with a header, headerless CloudWatch
Logs lines, JSON lines carrying a ``message``, and Parquet objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from connector.formats.base import (
    EMPTY_RULE,
    READ_ERRORS,
    OverlongLine,
    Parsed,
    RawBatch,
    Skipped,
    iter_line_blocks,
    payload_chunks,
    read_error_reason,
)
from connector.normalize.flow_json import needs_escaping
from connector.normalize.specs import load_spec
from connector.normalize.vpcflow import canonical_field
from connector.sinks.base import DeadLetter

DATASET = "aws.vpcflow"
CHUNK_RECORDS = 4096
MAX_LINE_BYTES = 64 * 1024
NODATA_RULE = "flow record without data (NODATA/SKIPDATA) dropped by normalize.drop_nodata"


def parse_format(text: str) -> tuple[str, ...]:
    """A flow-log format string (``${version} ${srcaddr}`` or plain names) -> field layout."""
    return tuple(canonical_field(tok.strip("${}")) for tok in text.split() if tok.strip("${}"))


class HeaderlessLayouts:
    """Picks the layout of a line that arrives without a header, by its field count."""

    def __init__(self, custom: tuple[str, ...] | None = None) -> None:
        spec = load_spec("vpcflow")
        self.custom = custom
        self._documented = parse_format(spec["documented_order"])
        self._v3_example = parse_format(spec["v3_custom_example"])
        self._tgw = parse_format(spec["transit_gateway_default"])

    def for_fields(self, fields: list[str]) -> tuple[str, ...]:
        """Layout for a split line; the documented order cut at the line's length by default."""
        n = len(fields)
        if self.custom is not None:
            return self.custom
        if n == len(self._tgw) and fields[3].startswith("tgw-"):
            return self._tgw
        if n == len(self._v3_example) and fields[1].startswith("vpc-"):
            return self._v3_example
        if n < 14 or n > len(self._documented):
            # Too short for any AWS version: report it against the default layout.
            return self._documented[:14]
        return self._documented[:n]


class FlowLogReader:
    """Turns flow-log objects into ``RawBatch``es of lines that share one layout."""

    def __init__(self, custom_format: str | None = None, drop_nodata: bool = False) -> None:
        self._known = {canonical_field(k) for k in load_spec("vpcflow")["fields"]}
        self._headerless = HeaderlessLayouts(parse_format(custom_format) if custom_format else None)
        self._drop_nodata = drop_nodata

    def is_header(self, line: str) -> bool:
        """True when ``line`` names fields instead of carrying values."""
        first = line.split(" ", 1)[0]
        return canonical_field(first) in self._known and not first[:1].isdigit()

    def read(self, raw: IO[bytes], origin: str) -> Iterator[Parsed]:
        """Read one object or stream: a header (if any) fixes the layout for every line after it."""
        yield from self.read_lines(iter_line_blocks(payload_chunks(raw), MAX_LINE_BYTES), origin)

    def read_lines(self, blocks: Iterable[list[str] | OverlongLine], origin: str) -> Iterator[Parsed]:
        """Same as ``read`` for lines that are already decoded (CloudWatch Logs events)."""
        layout: tuple[str, ...] | None = None
        batch: RawBatch | None = None
        line_no = 0
        nodata = 0
        settled = 0  # records and dead letters that came out (an object with none is empty)
        first = True
        failed = False
        try:
            for block in blocks:
                if isinstance(block, OverlongLine):
                    line_no += 1
                    first = False  # a header is the first line: this one was not
                    settled += 1
                    yield block.letter(origin, line_no)
                    continue
                start = line_no
                line_no += len(block)
                if first and block and block[0] and not block[0].isspace():
                    first = False
                    if self.is_header(block[0]):
                        layout = tuple(canonical_field(t) for t in block[0].split())
                        block = block[1:]
                        start += 1
                if layout is not None and self._plain_block(block):
                    # The common case, an S3 object with a header: whole runs of lines become
                    # records without a Python-level step per line.
                    if batch is not None and batch.records:
                        yield batch
                    batch = None
                    settled += len(block)
                    clean = not needs_escaping(" ".join(block))
                    for offset in range(0, len(block), CHUNK_RECORDS):
                        part = block[offset : offset + CHUNK_RECORDS]
                        first_line = start + offset + 1
                        yield RawBatch(DATASET, part, list(range(first_line, first_line + len(part))),
                                       layout=layout, clean=clean)
                    continue
                for index, line in enumerate(block, start + 1):
                    if not line or line.isspace():
                        continue
                    if first:
                        first = False
                        if self.is_header(line):
                            layout = tuple(canonical_field(t) for t in line.split())
                            continue
                    if line[0] == "{":
                        message = _message_of(line)
                        if message is None:
                            settled += 1
                            yield DeadLetter(line, "JSON flow record without a 'message' string", origin,
                                             f"line {index}")
                            continue
                        line = message
                    if self._drop_nodata and ("NODATA" in line or "SKIPDATA" in line):
                        nodata += 1
                        continue
                    this_layout = layout or self._headerless.for_fields(line.split())
                    if batch is None or batch.layout != this_layout or len(batch.records) >= CHUNK_RECORDS:
                        if batch is not None:
                            yield batch
                        batch = RawBatch(DATASET, layout=this_layout)
                    batch.records.append(line)
                    batch.locations.append(index)
                    settled += 1
        except READ_ERRORS as exc:
            failed = True
            if batch is not None:
                yield batch
                batch = None
            yield DeadLetter(None, read_error_reason(exc), origin, f"after line {line_no}")
        if batch is not None:
            yield batch
        if nodata:
            yield Skipped(NODATA_RULE, nodata, origin)
        if not settled and not nodata and not failed:
            yield Skipped(EMPTY_RULE, 1, origin)

    def _plain_block(self, block: list[str]) -> bool:
        # No blank lines, no JSON-wrapped lines, no per-line filtering: take the block as it is.
        return (
            bool(block)
            and not self._drop_nodata
            and block[0][:1] != "{"
            and "" not in block
            and not any(map(str.isspace, block))
        )

    def read_parquet(self, source: Any, origin: str) -> Iterator[Parsed]:
        """Parquet flow logs: columns are the fields; each row is rendered as a line so the
        same compiled mapping serves both encodings. ``source`` is a path or seekable file."""
        import pyarrow.parquet as pq  # imported lazily: most runs read text

        try:
            pfile = pq.ParquetFile(source)
        except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid(ValueError) on junk
            yield DeadLetter(None, f"unreadable Parquet object: {exc}", origin, "")
            return
        layout = tuple(canonical_field(name) for name in pfile.schema_arrow.names)
        row = 0
        nodata = 0
        try:
            for record_batch in pfile.iter_batches(batch_size=CHUNK_RECORDS):
                columns = [
                    ["-" if v is None else str(v) for v in col.to_pylist()] for col in record_batch.columns
                ]
                batch = RawBatch(DATASET, layout=layout)
                for values in zip(*columns, strict=True):
                    row += 1
                    line = " ".join(values)
                    if self._drop_nodata and ("NODATA" in values or "SKIPDATA" in values):
                        nodata += 1
                        continue
                    batch.records.append(line)
                    batch.locations.append(row)
                yield batch
        except (OSError, ValueError) as exc:
            yield DeadLetter(None, f"unreadable Parquet data: {exc}", origin, f"after row {row}")
            return
        if nodata:
            yield Skipped(NODATA_RULE, nodata, origin)
        if not row:
            yield Skipped(EMPTY_RULE, 1, origin)


def _message_of(line: str) -> str | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    message = obj.get("message") if isinstance(obj, dict) else None
    return message if isinstance(message, str) else None
