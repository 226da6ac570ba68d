"""The work of one backfill worker: read planned objects through a pipeline into the sink, checkpoint
each object once settled and report events. Worker processes import their entry point from here."""

from __future__ import annotations

import os
import queue
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from connector.backfill.objects import s3_client, s3_work_unit
from connector.backfill.plan import PlannedObject
from connector.backfill.settings import BackfillSettings
from connector.backfill.tally import CountingProcessor, Tally, TallySink
from connector.checkpoint import Checkpoint
from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.normalize.hotloop import collector_paused
from connector.pipeline import Pipeline
from connector.run_parts import RunParts
from connector.sinks.base import Sink
from connector.sinks.factory import DryRunSink, PreviewDone, build_sink, needs_originals
from connector.sinks.file import FileSink
from connector.sources.base import WorkUnit

# Longest a settled object waits for its checkpoint row while small objects trickle in.
FLUSH_SECONDS = 2.0


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker needs to start: its number, the run's settings and configuration, whom to outlive."""

    index: int
    settings: BackfillSettings
    config: AppConfig
    parent_pid: int  # 0 in the main process: nothing to watch


# Events from a worker to the parent: ("object", key, size, records, failed), ("tally", Tally),
# ("fatal", message), ("exit", index).
Event = tuple[Any, ...]


class StopFlag:
    """Set by SIGTERM: stop taking objects, flush, checkpoint what was delivered, exit cleanly."""

    def __init__(self) -> None:
        self.stopped = False

    def install(self) -> None:
        """Make SIGTERM set the flag in this process."""
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopped = True


def _open_sink(spec: WorkerSpec) -> Sink:
    settings = spec.settings
    kind = str(settings.sink_kind)
    if kind == "file" and settings.workers > 1:
        sink: Sink = FileSink(settings.out, name_suffix=f".{spec.index}")
    elif kind == "file":
        sink = FileSink(settings.out)
    else:
        sink = build_sink(kind, spec.config, os.environ, check=not settings.dry_run)
    return DryRunSink(sink) if settings.dry_run else sink


def work(spec: WorkerSpec, objects: Iterable[PlannedObject], report: Callable[[Event], None],
         stop: StopFlag) -> None:
    """Run one pipeline over ``objects``; checkpoint and report each object once it is settled."""
    settings = spec.settings
    client = s3_client(settings.aws)
    tally = Tally()
    failures: set[str] = set()
    checkpoint = Checkpoint(settings.checkpoint)
    sink = TallySink(_open_sink(spec), tally)
    processor = CountingProcessor(spec.config, tally, keep_raw=needs_originals(sink))
    dlq = DeadLetterStore(spec.config.dlq_path)
    bucket = settings.scope.bucket

    def settled(unit: WorkUnit) -> None:
        records = processor.records.pop(unit.origin, 0)
        failed = unit.key in failures
        failures.discard(unit.key)
        if not failed:
            # Only here, after the sink accepted every record of the object, may it count as done.
            checkpoint.mark_finished(unit.key, unit.etag or "", records)
        report(("object", unit.key, unit.size or 0, records, failed))

    def units() -> Iterator[WorkUnit]:
        for obj in objects:
            if stop.stopped or (spec.parent_pid and os.getppid() != spec.parent_pid):
                return
            yield s3_work_unit(client, bucket, obj, failures)

    parts = RunParts(processor, sink, dlq, spec.config.pipeline.batch_docs)
    try:
        _drive(parts.pipeline(settled), units(), spec.config.pipeline.batch_docs)
    finally:
        try:
            parts.close()
        finally:
            checkpoint.close()
            report(("tally", tally))


def _drive(pipeline: Pipeline, units: Iterable[WorkUnit], batch_docs: int) -> None:
    """Feed units to the pipeline and flush at unit boundaries every ``batch_docs`` records or few seconds.

    A flush is what acknowledges (and so checkpoints) settled objects; flushing on a record count and a
    clock keeps the checkpoint close behind the sink however large or small the objects are.
    """
    summary = pipeline.summary
    mark, last = 0, time.monotonic()
    with collector_paused():
        try:
            for unit in units:
                pipeline.process_unit(unit)
                read = sum(summary.by_dataset.values()) + summary.dead_lettered + summary.skipped
                if read - mark >= batch_docs or time.monotonic() - last >= FLUSH_SECONDS:
                    pipeline.flush()
                    mark, last = read, time.monotonic()
            pipeline.flush()
        finally:
            pipeline.close()


def _queued(tasks: Any, stop: StopFlag, parent_pid: int) -> Iterator[PlannedObject]:
    while not stop.stopped:
        try:
            item = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return  # the parent was killed: stop rather than run on unsupervised
            continue
        if item is None:
            return
        yield item


def worker_main(spec: WorkerSpec, tasks: Any, events: Any) -> None:
    """Entry point of a worker process."""
    stop = StopFlag()
    stop.install()
    # Ctrl-C reaches the whole process group; the parent decides, the worker stops via SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        work(spec, _queued(tasks, stop, spec.parent_pid), events.put, stop)
    except PreviewDone as done:
        events.put(("fatal", str(done)))
    except Exception as exc:  # reported to the parent, which stops the run
        events.put(("fatal", f"worker {spec.index}: {exc}"))
    finally:
        events.put(("exit", spec.index))
