"""CloudTrail: ``{"Records": [...]}`` objects (gzip) from S3, Insights objects, and one record
per line (CloudWatch Logs events, NDJSON exports). Digest and writability-check objects are
skipped by rule."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from connector.formats.base import (
    READ_ERRORS,
    Parsed,
    RawBatch,
    Skipped,
    iter_line_blocks,
    payload_chunks,
    read_all,
    read_error_reason,
)
from connector.sinks.base import DeadLetter

DATASET = "aws.cloudtrail"
CHUNK_RECORDS = 2048
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
DIGEST_RULE = "CloudTrail digest file (integrity proof, not events)"
WRITABILITY_RULE = "CloudTrail ConfigWritabilityCheckFile (bucket permission probe)"
EMPTY_RULE = "empty object"


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
        try:
            data = first + read_all(chunks, MAX_DOCUMENT_BYTES - len(first))
        except READ_ERRORS as exc:
            yield DeadLetter(None, read_error_reason(exc), origin, "object")
            return
        if not data.strip():
            yield Skipped(EMPTY_RULE, 1, origin)
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            # Several JSON values: one record per line.
            yield from self.read_lines([data.decode("utf-8", "replace").split("\n")], origin)
            return
        yield from self._from_document(doc, origin)

    def _from_document(self, doc: Any, origin: str) -> Iterator[Parsed]:
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            records = doc["Records"]
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

    def read_lines(self, blocks: Iterable[list[str]], origin: str) -> Iterator[Parsed]:
        """One JSON record per line (CloudWatch Logs events, NDJSON files); a read error after
        some lines still delivers those lines, then one dead letter says where it broke."""
        batch = self._new_batch()
        line_no = 0
        try:
            for block in blocks:
                for line in block:
                    line_no += 1
                    if not line.strip():
                        continue
                    try:
                        rec = orjson.loads(line)
                    except orjson.JSONDecodeError as exc:
                        yield DeadLetter(line, f"invalid JSON: {exc}", origin, f"line {line_no}")
                        continue
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

    def _new_batch(self) -> RawBatch:
        return RawBatch(DATASET, originals=[] if self._keep_original else None)


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
