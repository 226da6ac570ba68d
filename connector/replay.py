"""Replays a dead-letter file into a sink, once the cause of the refusals is fixed.

Entries whose record is an ECS document (what a sink refused) are sent again; Elasticsearch and
OpenSearch deduplicate by ``_id = event.id``, so a replay that is repeated does not duplicate.
Everything that is not delivered this time is written to a new dead-letter file: documents
refused again with the new reason, and, unchanged apart from a note, the entries that cannot be
replayed (records a parser could not read, which hold no document) and lines that are not
dead letters at all. The input file is never modified, so nothing is lost whatever happens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from connector.dlq import STDERR_PREFIX as STDERR_TEXT_PREFIX
from connector.dlq import DeadLetterStore, s3_client_or_default, split_s3_url
from connector.errors import ConfigError
from connector.sinks.base import DATASETS, Batch, DeadLetter, Sink

STDERR_PREFIX = STDERR_TEXT_PREFIX.encode()


@dataclass
class ReplaySummary:
    """Every entry read ends delivered, dead-lettered again, or kept as not replayable."""

    read: int = 0
    delivered: int = 0
    refused_again: int = 0
    not_replayable: int = 0
    unreadable: int = 0

    @property
    def remaining(self) -> int:
        """Entries written to the new dead-letter file."""
        return self.refused_again + self.not_replayable + self.unreadable

    def line(self, remaining_path: str) -> str:
        """The one-line summary printed at the end of a replay."""
        text = (f"replayed {self.read} dead letters: delivered {self.delivered}, refused again "
                f"{self.refused_again}, not replayable {self.not_replayable}, unreadable {self.unreadable}")
        if self.remaining:
            text += f"; {self.remaining} kept in {remaining_path}"
        return text


@dataclass(frozen=True, slots=True)
class _Entry:
    """One line of the dead-letter file: a replayable document, or a letter to keep as it is."""

    kind: Literal["document", "not_replayable", "unreadable"]
    letter: DeadLetter


def remaining_path_for(source: str, now: float | None = None) -> str:
    """Where the entries that stay dead go by default: beside the input, named by the time (in
    the current directory for an S3 input, which is never written to)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    if source.startswith("s3://"):
        return f"dead-letters.remaining-{stamp}.ndjson"
    path = Path(source)
    stem = path.name[: -len(".ndjson")] if path.name.endswith(".ndjson") else path.name
    return str(path.with_name(f"{stem}.remaining-{stamp}.ndjson"))


def read_entries(path: str, s3_client: Any = None) -> Iterator[_Entry]:
    """Each line of a dead-letter file (or of every object under an S3 prefix), classified; a bad
    line becomes a letter, never an error."""
    for name, lines in (_s3_objects(path, s3_client) if path.startswith("s3://") else [(path, _file_lines(path))]):
        for line_no, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(STDERR_PREFIX):
                line = line[len(STDERR_PREFIX) :]
            yield _classify(line, name, line_no)


def _file_lines(path: str) -> Iterator[bytes]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ConfigError(f"cannot read the dead-letter file {path}: {exc.strerror or exc}") from None
    with handle:
        yield from handle


def _s3_objects(url: str, client: Any) -> Iterator[tuple[str, list[bytes]]]:
    """Every object under the prefix, in key order (the store's keys sort by time)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3_url(url)
    client = s3_client_or_default(client)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = sorted(o["Key"] for page in pages for o in page.get("Contents", []))
        if not keys:
            raise ConfigError(f"no dead-letter objects under {url}")
        for key in keys:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            yield f"s3://{bucket}/{key}", body.splitlines()
    except (ClientError, BotoCoreError) as exc:
        raise ConfigError(f"cannot read the dead letters under {url}: {exc}") from None


def _classify(line: bytes, path: str, line_no: int) -> _Entry:
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return _Entry("unreadable", DeadLetter(line.decode("utf-8", "replace"),
                                               f"unreadable dead-letter line: {exc}", path, f"line {line_no}"))
    if not isinstance(entry, dict) or "reason" not in entry or "record" not in entry:
        return _Entry("unreadable", DeadLetter(entry, "not a dead letter: expected an object with 'record' and"
                                               " 'reason'", path, f"line {line_no}"))
    origin = str(entry.get("origin") or path)
    location = str(entry.get("location") or f"{path} line {line_no}")
    record = entry["record"]
    if _is_document(record):
        return _Entry("document", DeadLetter(record, str(entry["reason"]), origin, location))
    reason = str(entry["reason"])
    if not reason.startswith("not replayed: "):
        reason = f"not replayed: no ECS document in this dead letter (it was: {reason})"
    return _Entry("not_replayable", DeadLetter(record, reason, origin, location))


def _is_document(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    event = record.get("event")
    return (isinstance(event, dict) and event.get("dataset") in DATASETS
            and isinstance(event.get("id"), str) and bool(event["id"]))


def replay(path: str, sink: Sink, remaining: DeadLetterStore, batch_docs: int = 5000,
           s3_client: Any = None) -> ReplaySummary:
    """Send the documents of ``path`` (a file or an S3 prefix) to ``sink`` in batches; what stays
    dead goes to ``remaining``."""
    summary = ReplaySummary()
    batch = Batch()
    for entry in read_entries(path, s3_client):
        summary.read += 1
        letter = entry.letter
        if entry.kind != "document":
            setattr(summary, entry.kind, getattr(summary, entry.kind) + 1)
            remaining.write([letter])
            continue
        batch.add(letter.record, letter.record["event"]["dataset"], letter.origin)
        if len(batch) >= batch_docs:
            _send(sink, batch, remaining, summary)
            batch = Batch()
    if len(batch):
        _send(sink, batch, remaining, summary)
    return summary


def _send(sink: Sink, batch: Batch, remaining: DeadLetterStore, summary: ReplaySummary) -> None:
    delivery = sink.send(batch)
    summary.delivered += delivery.delivered
    summary.refused_again += len(delivery.dead_lettered)
    remaining.write(delivery.dead_lettered)
