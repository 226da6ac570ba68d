"""What runs in the worker processes: each builds its processor, S3 client and sink once, then
settles one message at a time and hands back what became of its records."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.formats.base import Skipped
from connector.formats.detect import detect_from_key
from connector.pipeline import NormalizedChunk, Pipeline, RecordProcessor
from connector.sinks.base import Batch, DeadLetter, Delivery, Sink, waits_on_io
from connector.sinks.factory import build_sink, needs_originals
from connector.sources.base import WorkUnit
from connector.sources.s3 import S3OversizedFetcher, aws_client, aws_session, s3_unit
from connector.sources.sqs import InlinePayload, ReadObjects

# The whole service logs under one name, whichever of its modules speaks.
log = logging.getLogger("connector.forward")


@dataclass(frozen=True, slots=True)
class MessageTask:
    """What a worker needs to process one message (plain data: it crosses a process boundary)."""

    message_id: str
    plan: ReadObjects | InlinePayload


@dataclass(slots=True)
class MessageResult:
    """What became of one message's records, per dataset, and how long its sink batches took."""

    units: int = 0
    records_in: Counter[str] = field(default_factory=Counter)
    records_out: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (dataset, rule)
    batch_seconds: list[float] = field(default_factory=list)


def _dataset_of_record(record: Any) -> str | None:
    if isinstance(record, (bytes, str)) and record[:1] in (b"{", "{"):
        # Sinks may hand back the serialized document; dead letters are rare, so parsing is cheap.
        try:
            record = orjson.loads(record)
        except orjson.JSONDecodeError:
            return None
    if isinstance(record, dict):
        event = record.get("event")
        if isinstance(event, dict) and isinstance(event.get("dataset"), str):
            return str(event["dataset"])
    return None


def _dataset_of_unit(unit: WorkUnit) -> str:
    kind = unit.type_hint if unit.type_hint and unit.type_hint != "auto" else detect_from_key(unit.key)
    return f"aws.{kind}" if kind else "unknown"


class _CountingSink:
    """Wraps the worker's sink to count delivered records per dataset and time each batch."""

    def __init__(self, inner: Sink, result: Callable[[], MessageResult]) -> None:
        self.inner = inner
        self._result = result
        self.needs_originals = needs_originals(inner)
        self.waits_on_io = waits_on_io(inner)

    def send(self, batch: Batch) -> Delivery:
        started = time.perf_counter()
        delivery = self.inner.send(batch)
        result = self._result()
        result.batch_seconds.append(time.perf_counter() - started)
        out = Counter(batch.datasets)
        for letter in delivery.dead_lettered:
            out[_dataset_of_record(letter.record) or "unknown"] -= 1
        result.records_out.update(out)
        return delivery

    def close(self) -> None:
        self.inner.close()


class _CountingDeadLetters(DeadLetterStore):
    """The dead-letter store, counting letters per dataset for the metrics."""

    def __init__(self, path: str | None, result: Callable[[], MessageResult]) -> None:
        super().__init__(path)
        self._result = result
        self.current_dataset = "unknown"

    def write(self, letters: list[DeadLetter]) -> None:
        super().write(letters)
        counts = self._result().dead_lettered
        for letter in letters:
            counts[_dataset_of_record(letter.record) or self.current_dataset] += 1


class _CountingProcessor(RecordProcessor):
    """The record processor, counting what each unit yields per dataset."""

    result: MessageResult
    dead_letters: _CountingDeadLetters

    def process(self, unit: WorkUnit) -> Iterator[NormalizedChunk | DeadLetter | Skipped]:
        dataset = _dataset_of_unit(unit)
        self.dead_letters.current_dataset = dataset
        for item in super().process(unit):
            if isinstance(item, NormalizedChunk):
                dataset = item.dataset
                self.dead_letters.current_dataset = dataset
                self.result.records_in[dataset] += len(item.docs)
            elif isinstance(item, DeadLetter):
                self.result.records_in[dataset] += 1
            else:
                self.result.skipped[dataset, item.rule] += item.count
            yield item


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker process is started with (pickled once per process)."""

    config: AppConfig
    sink_kind: str
    env: Mapping[str, str]


class _WorkerState:
    """Everything one worker process keeps between messages."""

    def __init__(self, setup: WorkerSetup) -> None:
        config = setup.config
        aws = config.section("aws")
        self.s3 = aws_client(aws_session(aws), "s3", aws)
        self.result = MessageResult()
        self.sink = _CountingSink(build_sink(setup.sink_kind, config, setup.env, check=False), lambda: self.result)
        self.dlq = _CountingDeadLetters(config.dlq_path, lambda: self.result)
        self.processor = _CountingProcessor(config, keep_raw=self.sink.needs_originals,
                                            fetch_oversized=S3OversizedFetcher(self.s3))
        self.processor.dead_letters = self.dlq
        self.batch_docs = config.pipeline.batch_docs

    def units(self, plan: ReadObjects | InlinePayload) -> list[WorkUnit]:
        if isinstance(plan, InlinePayload):
            return [plan.unit()]
        return [s3_unit(self.s3, obj.bucket, obj.key, obj.size, obj.etag) for obj in plan.objects]

    def close(self) -> None:
        for close in (self.sink.close, self.dlq.close, self.processor.close):
            try:
                close()
            except Exception:
                log.exception("closing the worker failed")


_STATE: _WorkerState | None = None


def _die_with_parent() -> None:
    # A worker outliving a killed service would keep writing records nobody will acknowledge.
    # Workers are forked by the forkserver, not by the service, so the parent-death signal of
    # the kernel does not apply; the service's end of the parent pipe closing does.
    parent = multiprocessing.parent_process()

    def watch() -> None:
        if parent is not None:
            parent.join()
        else:
            first = os.getppid()
            while os.getppid() == first:
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def init_worker(setup: WorkerSetup) -> None:
    """Build the worker's processor and sink once; the parent alone reacts to SIGINT/SIGTERM."""
    global _STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    _STATE = _WorkerState(setup)
    from multiprocessing.util import Finalize

    Finalize(_STATE, _STATE.close, exitpriority=10)


def process_message(task: MessageTask) -> MessageResult:
    """Run one message's units through the pipeline; returns only when every unit is settled."""
    state = _STATE
    if state is None:
        raise RuntimeError("worker not initialized")
    state.result = result = MessageResult()
    state.processor.result = result
    units = state.units(task.plan)
    settled: list[WorkUnit] = []
    pipeline = Pipeline(state.processor, state.sink, state.dlq, state.batch_docs, on_settled=settled.append)
    pipeline.run(units)
    if len(settled) != len(units):
        raise RuntimeError(f"message {task.message_id}: {len(settled)} of {len(units)} units settled")
    result.units = len(units)
    return result
