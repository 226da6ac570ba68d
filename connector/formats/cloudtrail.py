"""CloudTrail: ``{"Records": [...]}`` objects (gzip) from S3, Insights objects, and one record
per line (CloudWatch Logs events, NDJSON exports). Digest and writability-check objects are
skipped by rule."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from connector.formats.base import (
    EMPTY_RULE,
    READ_ERRORS,
    DecompressionBomb,
    OverlongLine,
    Parsed,
    RawBatch,
    Skipped,
    array_elements,
    iter_line_blocks,
    json_lines,
    payload_chunks,
    read_error_reason,
    read_json_payload,
)
from connector.sinks.base import DeadLetter

# What can end a streamed Records array early: bad JSON, or a damaged payload.
_STREAM_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, *READ_ERRORS)

DATASET = "aws.cloudtrail"
CHUNK_RECORDS = 2048
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_RECORD_BYTES = 64 * 1024 * 1024
_RECORDS_OPENING = re.compile(rb'\s*\{\s*"Records"\s*:\s*\[\s*')
_RECORDS_CLOSING = re.compile(rb'\s*\]\s*\}\s*$')
# '}' then ',' then the next record's first key (AWS writes eventVersion first).
_RECORD_BOUNDARY = re.compile(rb'\}\s*,\s*(\{\s*"eventVersion")')
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
DIGEST_RULE = "CloudTrail digest file (integrity proof, not events)"
WRITABILITY_RULE = "CloudTrail ConfigWritabilityCheckFile (bucket permission probe)"


def skip_rule_for_key(key: str) -> str | None:
    """The rule that skips an object by its key alone, if any."""
    if "/CloudTrail-Digest/" in key or key.startswith("CloudTrail-Digest/"):
        return DIGEST_RULE
    if key.rsplit("/", 1)[-1] == "ConfigWritabilityCheckFile":
        return WRITABILITY_RULE
    return None


def is_digest(doc: dict[str, Any]) -> bool:
    """Digest files are JSON too; recognize them by content when the key does not say."""
    return "digestStartTime" in doc and "logFiles" in doc


class CloudTrailReader:
    """Turns CloudTrail objects and line streams into ``RawBatch``es of record dicts."""

    def __init__(self, keep_original: bool = False) -> None:
        self._keep_original = keep_original

    def read(self, raw: IO[bytes], origin: str) -> Iterator[Parsed]:
        """Read a whole object: a Records document, a single record, or one record per line."""
        rule = skip_rule_for_key(origin)
        if rule is not None:
            yield Skipped(rule, 1, origin)
            return
        chunks = payload_chunks(raw)
        try:
            first = next(chunks, b"")
        except READ_ERRORS as exc:
            yield DeadLetter(None, read_error_reason(exc), origin, "object")
            return
        if _starts_with_record_line(first):
            # One record per line: stream it, so size does not matter and a truncated object
            # still delivers every line before the damage.
            yield from self.read_lines(iter_line_blocks(itertools.chain((first,), chunks), MAX_LINE_BYTES), origin)
            return
        opening = _RECORDS_OPENING.match(first)
        if opening is not None:
            yield from self._stream_records(first[opening.end():], chunks, origin)
            return
        payload = read_json_payload(itertools.chain((first,), chunks), origin, MAX_DOCUMENT_BYTES)
        if payload.outcome is not None:
            yield payload.outcome
        elif payload.lines is not None:
            yield from self.read_lines([payload.lines], origin)
        else:
            yield from self._from_document(payload.document, origin)

    def _from_document(self, doc: Any, origin: str) -> Iterator[Parsed]:
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            records = doc["Records"]
            if not records:
                yield Skipped(EMPTY_RULE, 1, origin)
            for start in range(0, len(records), CHUNK_RECORDS):
                part = records[start : start + CHUNK_RECORDS]
                originals: list[str | None] | None = None
                if self._keep_original:
                    originals = [orjson.dumps(r).decode() for r in part]
                yield RawBatch(DATASET, part, list(range(start + 1, start + len(part) + 1)), originals)
            return
        if isinstance(doc, dict) and is_digest(doc):
            yield Skipped(DIGEST_RULE, 1, origin)
            return
        if isinstance(doc, dict) and "eventVersion" in doc:
            originals = [orjson.dumps(doc).decode()] if self._keep_original else None
            yield RawBatch(DATASET, [doc], [1], originals)
            return
        shape = type(doc).__name__ if not isinstance(doc, dict) else "object with keys " + ", ".join(
            sorted(doc)[:5])
        yield DeadLetter(doc, f"not a CloudTrail document: expected {{\"Records\": [...]}}, found {shape}",
                         origin, "object")

    def read_lines(self, blocks: Iterable[list[str] | OverlongLine], origin: str) -> Iterator[Parsed]:
        """One JSON record per line (CloudWatch Logs events, NDJSON files); a read error after
        some lines still delivers those lines, then one dead letter says where it broke."""
        batch = self._new_batch()
        line_no = 0
        try:
            for item in json_lines(blocks, origin):
                if isinstance(item, DeadLetter):
                    yield item
                    continue
                line_no, rec, line = item
                if isinstance(rec, dict) and isinstance(rec.get("Records"), list):
                    yield from self._from_document(rec, origin)
                    continue
                batch.records.append(rec)
                batch.locations.append(line_no)
                if batch.originals is not None:
                    batch.originals.append(line)
                if len(batch.records) >= CHUNK_RECORDS:
                    yield batch
                    batch = self._new_batch()
        except READ_ERRORS as exc:
            if batch.records:
                yield batch
                batch = self._new_batch()
            yield DeadLetter(None, read_error_reason(exc), origin, f"after line {line_no}")
        if batch.records:
            yield batch

    def _stream_records(self, head: bytes, chunks: Iterator[bytes], origin: str) -> Iterator[Parsed]:
        """A ``{"Records": [...]}`` document read record by record, so memory stays flat whatever
        its size. Records are cut where one object ends and the next begins with "eventVersion"
        (an unescaped quote cannot occur inside a JSON string, so such a cut is structure); a cut
        inside a nested value fails to parse and is joined with the next piece instead. A record
        that is not valid JSON is dead-lettered on its own, and the records after it still flow."""
        batch = self._new_batch()
        buffer = head
        pending = b""  # pieces that did not parse on their own yet
        index = 0
        done = False

        def emit(piece: bytes) -> Iterator[Parsed]:
            nonlocal pending, index
            try:
                records = [orjson.loads(piece)]
            except orjson.JSONDecodeError:
                # Records that do not start with eventVersion stay joined: read them as a list.
                try:
                    records = orjson.loads(b"[" + piece + b"]")
                except orjson.JSONDecodeError:
                    records = None
            if records is not None:
                pending = b""
                yield from add(records)
                return
            # A cut inside a nested value (an element still open at the end), or a record that
            # is not JSON: brackets and quotes tell where each element ends.
            elements, still_open, after = array_elements(piece)
            if after.strip(b" \t\r\n}"):
                elements.append(after)  # text after the array's end: dead-lettered as it is
            for element in elements:
                try:
                    value = orjson.loads(element)
                except orjson.JSONDecodeError as exc:
                    index += 1
                    yield DeadLetter(element.decode("utf-8", "replace"), f"invalid JSON in the Records array: {exc}",
                                     origin, f"record {index}")
                    continue
                yield from add([value])
            pending = still_open + b"," if still_open else b""

        def add(records: list[Any]) -> Iterator[Parsed]:
            nonlocal batch, index
            for rec in records:
                index += 1
                batch.records.append(rec)
                batch.locations.append(index)
                if batch.originals is not None:
                    batch.originals.append(orjson.dumps(rec).decode())
                if len(batch.records) >= CHUNK_RECORDS:
                    yield batch
                    batch = self._new_batch()

        try:
            while True:
                start = 0
                cuts = list(_record_cuts(buffer))
                if cuts and not pending:
                    # Usually every cut is structure: all complete records of the buffer parse
                    # as one array, in one call.
                    try:
                        records = orjson.loads(b"[" + buffer[: cuts[-1][0]] + b"]")
                    except orjson.JSONDecodeError:
                        records = None  # a cut inside a nested value: piece by piece below
                    if records is not None:
                        yield from add(records)
                        start, cuts = cuts[-1][1], []
                for end, next_start in cuts:
                    piece = pending + buffer[start:end]
                    start = next_start
                    yield from emit(piece)
                buffer = buffer[start:]
                if done:
                    break
                if len(pending) + len(buffer) > MAX_RECORD_BYTES:
                    raise DecompressionBomb(f"a CloudTrail record longer than {MAX_RECORD_BYTES} bytes")
                data = next(chunks, None)
                if data is None:
                    done = True
                else:
                    buffer += data
            tail = _RECORDS_CLOSING.sub(b"", buffer)
            if tail.strip() or pending:
                yield from emit(pending + tail)
            if pending:
                index += 1
                yield DeadLetter(pending[:-1].decode("utf-8", "replace"),
                                 "the Records array ends inside this record", origin, f"record {index}")
        except _STREAM_ERRORS as exc:
            if batch.records:
                yield batch
                batch = self._new_batch()
            reason = (f"invalid JSON in the Records array after record {index}: {exc}"
                      if isinstance(exc, orjson.JSONDecodeError) else read_error_reason(exc))
            yield DeadLetter(None, reason, origin, f"after record {index}")
        if batch.records:
            yield batch
        if index == 0:
            yield Skipped(EMPTY_RULE, 1, origin)

    def _new_batch(self) -> RawBatch:
        return RawBatch(DATASET, originals=[] if self._keep_original else None)


_COMPACT_BOUNDARY = b'},{"eventVersion"'


def _record_cuts(buffer: bytes) -> Iterator[tuple[int, int]]:
    """(end of a record, start of the next) for each boundary in ``buffer``: a plain search for the
    compact form AWS writes, a regular expression for documents with whitespace."""
    position = buffer.find(_COMPACT_BOUNDARY)
    if position >= 0:
        find = buffer.find
        while position >= 0:
            yield position + 1, position + 2
            position = find(_COMPACT_BOUNDARY, position + 2)
        return
    for cut in _RECORD_BOUNDARY.finditer(buffer):
        yield cut.start() + 1, cut.end() - len(cut.group(1))


def _starts_with_record_line(head: bytes) -> bool:
    """True when the object's first line is one complete CloudTrail record (NDJSON)."""
    text = head.lstrip()
    newline = text.find(b"\n")
    if not text.startswith(b"{") or newline < 0:
        return False
    try:
        first = orjson.loads(text[:newline])
    except orjson.JSONDecodeError:
        return False
    return isinstance(first, dict) and "Records" not in first and "eventVersion" in first
