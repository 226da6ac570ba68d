"""An S3 backfill run from start to exit status: plan, enqueue or skip what the checkpoint holds, load
the rest in this process or in worker processes, then show the summary."""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
from types import FrameType
from typing import Any

import orjson
from rich.console import Console

from connector.backfill.enqueue import enqueue_plan
from connector.backfill.ndjson_tails import repair_ndjson_tails
from connector.backfill.objects import s3_client
from connector.backfill.plan import PlannedObject, plan_backfill
from connector.backfill.progress import BackfillResult, ProgressView, human_bytes, render_summary
from connector.backfill.settings import BackfillSettings
from connector.backfill.workers import Event, StopFlag, WorkerSpec, work, worker_main
from connector.checkpoint import Checkpoint
from connector.config import AppConfig
from connector.errors import ConnectorError
from connector.sinks.factory import PreviewDone

# The command logs under its package name, whichever module writes the line.
log = logging.getLogger(__package__)


def run_s3_backfill(args: argparse.Namespace, config: AppConfig, console: Console | None = None) -> int:
    """List the range, then enqueue it or load it into the sink; exit 0 when every object settled cleanly."""
    settings = BackfillSettings.from_args(args, config)
    console = console or Console(stderr=True)
    if logging.getLogger("botocore").level == logging.NOTSET:
        # botocore announces where it found credentials and endpoints at INFO; not news in a run log.
        logging.getLogger("botocore").setLevel(logging.WARNING)
    started = time.monotonic()
    plan = plan_backfill(s3_client(settings.aws), settings.scope)
    scope = settings.scope
    log.info("listed %d objects (%s) in %d day partitions of s3://%s/%s with %d List calls",
             len(plan.objects), human_bytes(plan.total_bytes), len(plan.partitions), scope.bucket, scope.prefix,
             plan.list_calls)
    if settings.enqueue:
        sent = enqueue_plan(plan, settings.enqueue, settings.aws)
        console.print(f"enqueued {sent} objects to {settings.enqueue}", markup=False, highlight=False)
        return 0
    result = BackfillResult(listed=len(plan.objects), list_calls=plan.list_calls)
    checkpoint = Checkpoint(settings.checkpoint)
    try:
        finished = checkpoint.finished()
    finally:
        checkpoint.close()
    todo = [o for o in plan.objects if (o.key, o.etag) not in finished]
    result.skipped_objects = len(plan.objects) - len(todo)
    if result.skipped_objects:
        log.info("skipping %d objects already in checkpoint %s", result.skipped_objects, settings.checkpoint)
    if settings.sink_kind == "file" and not settings.dry_run:
        cut = repair_ndjson_tails(settings.out)
        if cut:
            log.info("cut %d bytes of half-written lines from %s (their objects are read again)", cut, settings.out)
    live = settings.progress and console.is_terminal
    try:
        with ProgressView(console, live, len(todo), sum(o.size for o in todo)) as view:
            if settings.workers == 1:
                _run_in_process(settings, config, todo, result, view)
            else:
                _run_workers(settings, config, todo, result, view)
    except KeyboardInterrupt:
        result.interrupted = True
    except ConnectorError as exc:
        # A refused batch or an unreachable sink: show what was settled before it, then fail.
        result.fatal = str(exc)
    result.elapsed = time.monotonic() - started
    render_summary(result, console, plain=not settings.progress)
    # The same numbers as one structured event, for log shippers watching unattended runs.
    log.info("backfill finished %s", orjson.dumps(dict(result.rows())).decode())
    if result.fatal:
        raise ConnectorError(result.fatal)
    if result.interrupted:
        return 130
    dead = sum(result.tally.dead_lettered.values())
    return 0 if result.failed == 0 and dead == 0 else 1


def _on_event(result: BackfillResult, view: ProgressView, event: Event) -> None:
    tag = event[0]
    if tag == "object":
        _, _key, size, records, failed = event
        if failed:
            result.failed += 1
        else:
            result.done += 1
        result.bytes_read += size
        result.records += records
        view.update(result, result.done + result.failed)
    elif tag == "tally":
        result.tally.add(event[1])
    elif tag == "fatal":
        result.fatal = result.fatal or str(event[1])


def _run_in_process(settings: BackfillSettings, config: AppConfig, todo: list[PlannedObject],
                    result: BackfillResult, view: ProgressView) -> None:
    stop = StopFlag()
    previous = signal.getsignal(signal.SIGTERM)
    stop.install()
    try:
        work(WorkerSpec(0, settings, config, 0), todo, lambda e: _on_event(result, view, e), stop)
    except PreviewDone as done:
        print(done, file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_workers(settings: BackfillSettings, config: AppConfig, todo: list[PlannedObject],
                 result: BackfillResult, view: ProgressView) -> None:
    # spawn, not fork: boto3 and the sinks hold threads and sockets that must not be copied.
    ctx = mp.get_context("spawn")
    tasks: Any = ctx.Queue()
    events: Any = ctx.Queue()
    # Largest first, so the run does not end waiting on one big object picked up last.
    for obj in sorted(todo, key=lambda o: -o.size):
        tasks.put(obj)
    for _ in range(settings.workers):
        tasks.put(None)
    procs = [ctx.Process(target=worker_main, name=f"backfill-worker-{i}",
                         args=(WorkerSpec(i, settings, config, os.getpid()), tasks, events))
             for i in range(settings.workers)]
    for proc in procs:
        proc.start()

    def stop_workers(_signum: int = 0, _frame: FrameType | None = None) -> None:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop_workers)
    exited: set[int] = set()
    try:
        while len(exited) < len(procs):
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                for i, proc in enumerate(procs):
                    if i not in exited and not proc.is_alive():
                        exited.add(i)
                        result.fatal = result.fatal or f"worker {i} died with exit code {proc.exitcode}"
                continue
            if event[0] == "exit":
                exited.add(int(event[1]))
            else:
                _on_event(result, view, event)
                if event[0] == "fatal":
                    stop_workers()
    except KeyboardInterrupt:
        stop_workers()
        _drain(events, procs, result, view)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _drain(events: Any, procs: list[Any], result: BackfillResult, view: ProgressView) -> None:
    """After asking workers to stop, collect what they settled before they exit."""
    deadline = time.monotonic() + 30
    exited = 0
    while exited < len(procs) and time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.5)
        except queue.Empty:
            continue
        except KeyboardInterrupt:
            return
        if event[0] == "exit":
            exited += 1
        else:
            _on_event(result, view, event)
