"""AWS Config: history and snapshot objects from S3, and the notifications that arrive through
SQS (raw, SNS-wrapped, or as EventBridge events), including oversized-item pointers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson

from connector.formats.base import (
    EMPTY_RULE,
    Parsed,
    RawBatch,
    Skipped,
    array_elements,
    json_lines,
    payload_chunks,
    read_json_payload,
)
from connector.normalize.specs import load_spec
from connector.sinks.base import DeadLetter

DATASET = "aws.config"
CHUNK_RECORDS = 1024
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
ITEM = "item"
SNAPSHOT_ITEM = "snapshot_item"
CHANGE = "change"
COMPLIANCE = "compliance"
WRITABILITY_RULE = "AWS Config ConfigWritabilityCheckFile (bucket permission probe)"
_ITEMS_OPENING = re.compile(r'"configurationItems"\s*:\s*\[')

# Fetches an oversized item's full notification from "bucket/key"; None where S3 is not reachable.
OversizedFetcher = Callable[[str], bytes]


def unwrap_envelope(doc: Any) -> Any:
    """Strip SNS and EventBridge envelopes around a Config notification."""
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        doc = orjson.loads(doc["Message"])
    if isinstance(doc, dict) and isinstance(doc.get("detail"), dict) and \
            str(doc.get("detail-type", "")).startswith("Config "):
        doc = doc["detail"]
    return doc


class ConfigReader:
    """Turns Config objects and notifications into ``RawBatch``es of ``(kind, record)`` pairs."""

    def __init__(self, fetch_oversized: OversizedFetcher | None = None) -> None:
        self._fetch = fetch_oversized
        self._skipped_types = set(load_spec("config")["skipped_message_types"])

    def read(self, raw: IO[bytes], origin: str) -> Iterator[Parsed]:
        """Read one object: a history/snapshot file, one notification, or one notification per line."""
        if origin.rsplit("/", 1)[-1] == "ConfigWritabilityCheckFile":
            yield Skipped(WRITABILITY_RULE, 1, origin)
            return
        payload = read_json_payload(payload_chunks(raw), origin, MAX_DOCUMENT_BYTES)
        if payload.outcome is not None:
            yield payload.outcome
        elif payload.lines is not None:
            yield from self.read_lines([payload.lines], origin)
        else:
            yield from self.read_document(payload.document, origin, 1)

    def read_lines(self, blocks: Iterable[list[str]], origin: str) -> Iterator[Parsed]:
        """One notification (or history document) per line."""
        for item in json_lines(blocks, origin):
            if isinstance(item, DeadLetter):
                yield from self._damaged_items(item)
            else:
                yield from self.read_document(item[1], origin, item[0])

    def _damaged_items(self, letter: DeadLetter) -> Iterator[Parsed]:
        """A history or snapshot document that is not JSON as a whole: its items read one by one,
        so that a damaged item is dead-lettered alone and the others still flow."""
        line = letter.record
        opening = _ITEMS_OPENING.search(line) if isinstance(line, str) else None
        if opening is None:
            yield letter
            return
        kind = SNAPSHOT_ITEM if '"configSnapshotId"' in line else ITEM
        elements, still_open, _after = array_elements(line[opening.end():].encode())
        if still_open:
            elements.append(still_open)
        batch = RawBatch(DATASET)
        for number, element in enumerate(elements, 1):
            try:
                value = orjson.loads(element)
            except orjson.JSONDecodeError as exc:
                yield DeadLetter(element.decode(), f"invalid JSON in configurationItems ({letter.location}): {exc}",
                                 letter.origin, f"record {number}")
                continue
            batch.records.append((kind, value))
            batch.locations.append(number)
        if batch.records:
            yield batch
        if not elements:
            yield Skipped(EMPTY_RULE, 1, letter.origin)

    def read_document(self, doc: Any, origin: str, location: int) -> Iterator[Parsed]:
        """Classify one parsed document and yield its records, skip or dead letter."""
        try:
            doc = unwrap_envelope(doc)
        except orjson.JSONDecodeError as exc:
            yield DeadLetter(doc, f"SNS Message is not JSON: {exc}", origin, f"record {location}")
            return
        if not isinstance(doc, dict):
            yield DeadLetter(doc, f"not an AWS Config document: a JSON {type(doc).__name__}", origin,
                             f"record {location}")
            return
        items = doc.get("configurationItems")
        if isinstance(items, list):
            if not items:
                yield Skipped(EMPTY_RULE, 1, origin)
                return
            kind = SNAPSHOT_ITEM if "configSnapshotId" in doc else ITEM
            for start in range(0, len(items), CHUNK_RECORDS):
                part = items[start : start + CHUNK_RECORDS]
                yield RawBatch(DATASET, [(kind, ci) for ci in part],
                               list(range(start + 1, start + len(part) + 1)))
            return
        message_type = doc.get("messageType")
        if message_type in self._skipped_types:
            yield Skipped(f"AWS Config {message_type} notice (announces a delivery, carries no change)", 1, origin)
            return
        if message_type == "ConfigurationItemChangeNotification" and isinstance(doc.get("configurationItem"), dict):
            yield RawBatch(DATASET, [(CHANGE, doc)], [location])
            return
        if message_type == "OversizedConfigurationItemChangeNotification":
            yield from self._oversized(doc, origin, location)
            return
        if message_type == "ComplianceChangeNotification":
            yield RawBatch(DATASET, [(COMPLIANCE, doc)], [location])
            return
        if "configurationItemCaptureTime" in doc and "resourceType" in doc:
            yield RawBatch(DATASET, [(ITEM, doc)], [location])
            return
        what = f"messageType {message_type!r}" if message_type else "keys " + ", ".join(sorted(doc)[:6])
        yield DeadLetter(doc, f"not an AWS Config item or notification ({what})", origin, f"record {location}")

    def _oversized(self, doc: dict[str, Any], origin: str, location: int) -> Iterator[Parsed]:
        summary = doc.get("s3DeliverySummary") or {}
        where = summary.get("s3BucketLocation") if isinstance(summary, dict) else None
        if not where or not isinstance(where, str):
            yield DeadLetter(doc, "oversized configuration item notification without s3BucketLocation", origin,
                             f"record {location}")
            return
        if self._fetch is None:
            yield DeadLetter(doc, f"oversized configuration item at s3://{where}: no S3 access configured to fetch it",
                             origin, f"record {location}")
            return
        try:
            fetched = orjson.loads(self._fetch(where))
        except (OSError, orjson.JSONDecodeError, ValueError) as exc:
            yield DeadLetter(doc, f"oversized configuration item at s3://{where} could not be read: {exc}", origin,
                             f"record {location}")
            return
        if isinstance(fetched, dict) and fetched.get("messageType") == "OversizedConfigurationItemChangeNotification":
            yield DeadLetter(doc, f"s3://{where} holds another oversized pointer", origin, f"record {location}")
            return
        yield from self.read_document(fetched, f"s3://{where}", location)
