"""Shared builders for the unit tests: flow lines, work units, an in-memory sink."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from typing import Any

from connector.formats.base import Skipped
from connector.pipeline import NormalizedChunk, Pipeline, RecordProcessor, RunSummary
from connector.sinks.base import Batch, DeadLetter, Delivery
from connector.sources.base import WorkUnit

V2_FIELDS = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
             "start end action log-status")
V2_HEADER = V2_FIELDS
FLOW_KEY = ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/"
            "123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20231114T2215Z_1a2b3c4d.log.gz")
START, END = 1700000000, 1700000060
START_ISO, END_ISO = "2023-11-14T22:13:20.000Z", "2023-11-14T22:14:20.000Z"


def v2_line(src: str = "10.0.0.5", dst: str = "10.0.0.6", sport: int | str = 49152, dport: int | str = 443,
            proto: int | str = 6, action: str = "ACCEPT", status: str = "OK", packets: int | str = 10,
            nbytes: int | str = 840, account: str = "123456789012", eni: str = "eni-0a1b2c3d4e5f60718") -> str:
    """One default-format (version 2) flow-log record."""
    return f"2 {account} {eni} {src} {dst} {sport} {dport} {proto} {packets} {nbytes} {START} {END} {action} {status}"


def unit(data: bytes, key: str, type_hint: str | None = None) -> WorkUnit:
    """A work unit over bytes in memory; ``key`` is what detection and ids see."""
    return WorkUnit(origin=key, key=key, open=lambda: io.BytesIO(data), size=len(data), type_hint=type_hint)


def gz(text: str | bytes) -> bytes:
    """Gzip ``text`` the way AWS delivers objects."""
    return gzip.compress(text.encode() if isinstance(text, str) else text)


@dataclass
class Outcome:
    """Everything ``RecordProcessor.process`` produced for one unit, sorted by kind."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def skipped_count(self) -> int:
        return sum(s.count for s in self.skipped)


def process(processor: RecordProcessor, data: bytes, key: str, type_hint: str | None = None) -> Outcome:
    """Run one unit through the processor and collect documents, dead letters and skips."""
    out = Outcome()
    for item in processor.process(unit(data, key, type_hint)):
        if isinstance(item, NormalizedChunk):
            out.docs.extend(item.docs)
        elif isinstance(item, DeadLetter):
            out.dead.append(item)
        else:
            assert isinstance(item, Skipped), item
            out.skipped.append(item)
    return out


class MemorySink:
    """Accepts every document and keeps it."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.datasets: list[str] = []

    def send(self, batch: Batch) -> Delivery:
        self.docs.extend(batch.docs)
        self.datasets.extend(batch.datasets)
        return Delivery(delivered=len(batch.docs))

    def close(self) -> None:
        pass


class MemoryDlq:
    """Keeps dead letters in a list (the pipeline only calls ``write``)."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def write(self, letters: list[DeadLetter]) -> None:
        self.letters.extend(letters)


def run_pipeline(processor: RecordProcessor, units: list[WorkUnit]) -> tuple[RunSummary, MemorySink, MemoryDlq]:
    """Drive ``units`` through a Pipeline into memory; returns the summary, sink and dead letters."""
    sink, dlq = MemorySink(), MemoryDlq()
    summary = Pipeline(processor, sink, dlq, batch_docs=1000).run(units)  # type: ignore[arg-type]
    return summary, sink, dlq


def assert_accounted(summary: RunSummary, sink: MemorySink, dlq: MemoryDlq) -> None:
    """Every record read was written, skipped or dead-lettered, and the counters agree with what arrived."""
    assert summary.read == summary.written + summary.skipped + summary.dead_lettered
    assert summary.written == len(sink.docs)
    assert summary.dead_lettered == len(dlq.letters)
