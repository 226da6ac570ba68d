"""Runs work units through a real ``Pipeline`` into a sink that checks every document and a real
dead-letter file, and reports what became of them."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import orjson

from connector.dlq import DeadLetterStore
from connector.pipeline import Pipeline, RecordProcessor, RunSummary
from connector.sinks.base import Batch, Delivery
from connector.sources.base import WorkUnit


class CheckingSink:
    """Accepts every document after checking what each sink relies on: it is one JSON object
    whose ``event.id`` and ``@timestamp`` (where it has them) are the ones the batch carries
    beside it."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def send(self, batch: Batch) -> Delivery:
        for encoded, event_id, timestamp in zip(batch.encoded, batch.ids, batch.timestamps, strict=True):
            doc = orjson.loads(encoded)
            assert isinstance(doc, dict), encoded[:200]
            assert event_id == str(doc["event"].get("id", "")), (doc["event"], event_id)
            assert timestamp == doc.get("@timestamp", timestamp), (doc.get("@timestamp"), timestamp)
        self.ids.extend(batch.ids)
        return Delivery(delivered=len(batch))

    def close(self) -> None:
        pass


@dataclass
class Settled:
    """What a run made of its units: the summary, the ids written, the dead letters stored."""

    summary: RunSummary
    written_ids: list[str]
    dead_letters: list[dict[str, Any]]

    def assert_accounts_for(self, units: int) -> None:
        """Each of ``units`` input units ended written, skipped by a named rule or dead-lettered,
        and the counts agree with what reached the sink and the dead-letter file."""
        summary = self.summary
        assert summary.written == len(self.written_ids)
        assert summary.dead_lettered == len(self.dead_letters)
        assert all(rule for rule in summary.skipped_by_rule)
        assert sum(summary.skipped_by_rule.values()) == summary.skipped
        assert all(letter["reason"] for letter in self.dead_letters)
        assert summary.written + summary.skipped + summary.dead_lettered == units, (summary.line(), units)


def memory_unit(data: bytes, key: str, type_hint: str | None = None, vpcflow_format: str | None = None) -> WorkUnit:
    """A work unit over bytes in memory; ``key`` is what detection and record ids see."""
    return WorkUnit(origin=key, key=key, open=lambda: io.BytesIO(data), size=len(data), type_hint=type_hint,
                    vpcflow_format=vpcflow_format)


def settle(processor: RecordProcessor, units: list[WorkUnit]) -> Settled:
    """Drive ``units`` through a pipeline; dead letters go through a real store into a file."""
    sink = CheckingSink()
    handle, path = tempfile.mkstemp(prefix="dead-letters-", suffix=".ndjson")
    os.close(handle)
    try:
        dlq = DeadLetterStore(path)
        try:
            summary = Pipeline(processor, sink, dlq, batch_docs=64).run(units)
        finally:
            dlq.close()
        with open(path, "rb") as stored:
            letters = [orjson.loads(line) for line in stored]
    finally:
        os.unlink(path)
    return Settled(summary, sink.ids, letters)
