"""Historical load of an S3 log bucket: list only the date partitions in range, read the objects in
one or more worker processes, checkpoint each object once it is settled, show progress and a summary.

The same objects can instead be put on an SQS queue as S3 notifications (``--enqueue``) so that
any number of ``forward`` workers share the work through the code path they already have.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import multiprocessing as mp
import os
import queue
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import quote_plus, urlparse

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from connector.checkpoint import Checkpoint
from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.errors import ConfigError, ConnectorError, SourceError
from connector.formats.base import Skipped
from connector.formats.detect import CLOUDTRAIL, CONFIG, TYPES, VPCFLOW
from connector.normalize.hotloop import collector_paused
from connector.pipeline import NormalizedChunk, Pipeline, RecordProcessor
from connector.run_parts import RunParts
from connector.sinks.base import Batch, DeadLetter, Delivery, Sink, waits_on_io
from connector.sinks.factory import SINK_KINDS, DryRunSink, PreviewDone, build_sink, needs_originals
from connector.sinks.file import FileSink
from connector.sources.base import WorkUnit
from connector.sources.s3 import aws_client, aws_session, check_aws_settings

log = logging.getLogger(__name__)

DATASET_OF = {VPCFLOW: "aws.vpcflow", CLOUDTRAIL: "aws.cloudtrail", CONFIG: "aws.config"}
# Service folders under AWSLogs/<account>/ and the type each holds. Digest files prove integrity and
# carry no events, so their folder is not listed at all.
SERVICE_FOLDERS = {"CloudTrail": CLOUDTRAIL, "CloudTrail-Insight": CLOUDTRAIL, "vpcflowlogs": VPCFLOW,
                   "Config": CONFIG}
HIVE_SERVICES = {"vpcflowlogs": VPCFLOW}
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_HIVE_ACCOUNT = "aws-account-id="
PROGRESS_LOG_SECONDS = 10.0
SQS_BATCH = 10
LIST_THREADS = 8
# Longest a settled object waits for its checkpoint row while small objects trickle in.
FLUSH_SECONDS = 2.0
DEFAULT_WORKERS = 1


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True, slots=True)
class BackfillScope:
    """What to load: a bucket (and prefix before ``AWSLogs/``), an inclusive date range and filters."""

    bucket: str
    start: dt.date
    end: dt.date
    prefix: str = ""
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset(TYPES)

    def days(self) -> list[dt.date]:
        """Every day of the range, in order."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """One object to load, with the ETag it had when listed (the checkpoint key)."""

    key: str
    etag: str
    size: int
    kind: str
    account: str
    region: str


@dataclass
class BackfillPlan:
    """The objects of the requested days, found by listing only their date partitions."""

    scope: BackfillScope
    objects: list[PlannedObject] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    list_calls: int = 0

    @property
    def total_bytes(self) -> int:
        """Stored (usually gzip) size of every planned object."""
        return sum(o.size for o in self.objects)


class _Lister:
    """ListObjectsV2 with pagination, counting the calls (each is billed and takes a round trip)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self._lock = threading.Lock()
        self.calls = 0

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        while True:
            with self._lock:
                self.calls += 1
            try:
                page = self._client.list_objects_v2(**params)
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(f"cannot list s3://{self._bucket}/{prefix}: {exc}") from exc
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def folders(self, prefix: str) -> list[str]:
        """Names of the 'sub-folders' right under ``prefix`` (without the prefix or the slash)."""
        names: list[str] = []
        for page in self._pages(prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix):].rstrip("/"))
        return names

    def objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object under ``prefix``."""
        for page in self._pages(prefix, None):
            yield from page.get("Contents", [])


def _day_prefix(kind: str, day: dt.date, hive: bool) -> str:
    if hive:
        return f"year={day.year:04d}/month={day.month:02d}/day={day.day:02d}/"
    if kind == CONFIG:
        # AWS Config writes its date folders without zero padding (2026/1/5/).
        return f"{day.year}/{day.month}/{day.day}/"
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}/"


def plan_backfill(client: Any, scope: BackfillScope) -> BackfillPlan:
    """List the bucket's account, service and region folders, then only the day folders in range."""
    lister = _Lister(client, scope.bucket)
    plan = BackfillPlan(scope)
    base = (scope.prefix.strip("/") + "/" if scope.prefix.strip("/") else "") + "AWSLogs/"

    def wanted_account(account: str) -> bool:
        return not scope.accounts or account in scope.accounts

    def wanted_region(region: str) -> bool:
        return not scope.regions or region in scope.regions

    partitions: list[tuple[str, str, str, str]] = []  # (day folder, kind, account, region)

    def list_days(folder: str, kind: str, account: str, region: str, hive: bool) -> None:
        for day in scope.days():
            partitions.append((folder + _day_prefix(kind, day, hive), kind, account, region))

    def standard_account(folder: str, account: str) -> None:
        for service in lister.folders(folder):
            kind = SERVICE_FOLDERS.get(service)
            if kind is None or kind not in scope.types:
                continue
            for region in lister.folders(f"{folder}{service}/"):
                if wanted_region(region):
                    list_days(f"{folder}{service}/{region}/", kind, account, region, hive=False)

    def hive_account(folder: str, account: str) -> None:
        for service in lister.folders(folder):
            kind = HIVE_SERVICES.get(service.removeprefix("aws-service="))
            if not service.startswith("aws-service=") or kind is None or kind not in scope.types:
                continue
            for region_folder in lister.folders(f"{folder}{service}/"):
                region = region_folder.removeprefix("aws-region=")
                if region_folder.startswith("aws-region=") and wanted_region(region):
                    list_days(f"{folder}{service}/{region_folder}/", kind, account, region, hive=True)

    for entry in lister.folders(base):
        if _ORG_ID.match(entry):
            # Organization trails: AWSLogs/<org id>/<account>/CloudTrail/...
            for account in lister.folders(f"{base}{entry}/"):
                if wanted_account(account):
                    standard_account(f"{base}{entry}/{account}/", account)
        elif entry.startswith(_HIVE_ACCOUNT):
            account = entry[len(_HIVE_ACCOUNT):]
            if wanted_account(account):
                hive_account(f"{base}{entry}/", account)
        elif wanted_account(entry):
            standard_account(f"{base}{entry}/", entry)
    # Day folders are independent: list them concurrently (a month of a large org is thousands of calls).
    with ThreadPoolExecutor(max_workers=LIST_THREADS) as pool:
        listings = list(pool.map(lambda p: list(lister.objects(p[0])), partitions))
    for (folder, kind, account, region), items in zip(partitions, listings, strict=True):
        plan.partitions.append(folder)
        for item in items:
            key = item["Key"]
            if not key.endswith("/"):
                plan.objects.append(PlannedObject(key, str(item.get("ETag", "")).strip('"'), int(item.get("Size", 0)),
                                                  kind, account, region))
    plan.list_calls = lister.calls
    return plan


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True, slots=True)
class BackfillSettings:
    """Everything an S3 backfill run needs, validated once from the command line and configuration."""

    scope: BackfillScope
    aws: Mapping[str, Any]  # the `aws` section with the role flags over it
    checkpoint: str
    workers: int
    progress: bool
    enqueue: str | None
    sink_kind: str | None
    out: str
    dry_run: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace, config: AppConfig) -> BackfillSettings:
        """Merge flags over the ``backfill`` and ``aws`` sections; errors name the flag or key."""
        section = config.section("backfill")
        where = config.source_file
        unknown = sorted(set(section) - {"bucket", "prefix", "checkpoint", "workers"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join('backfill.' + k for k in unknown)}; "
                              "known: bucket, checkpoint, prefix, workers")
        bucket = args.bucket or section.get("bucket")
        if not bucket:
            raise ConfigError("no bucket: pass --bucket or set backfill.bucket")
        if not args.start or not args.end:
            raise ConfigError("an S3 backfill needs --start and --end (YYYY-MM-DD, inclusive)")
        start, end = _date(args.start, "--start"), _date(args.end, "--end")
        if end < start:
            raise ConfigError(f"--end {args.end} is before --start {args.start}")
        kind = getattr(args, "type", "auto")
        scope = BackfillScope(
            bucket=str(bucket), start=start, end=end, prefix=str(args.prefix or section.get("prefix") or ""),
            accounts=frozenset(args.account or ()), regions=frozenset(args.region or ()),
            types=frozenset(TYPES if kind in (None, "auto") else (kind,)))
        workers_raw = args.workers if args.workers is not None else section.get("workers", DEFAULT_WORKERS)
        try:
            workers = int(workers_raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: backfill.workers must be an integer, got {workers_raw!r}") from None
        if workers < 1:
            raise ConfigError("--workers must be at least 1")
        access = config.section("aws")
        if args.role_arn:
            access["role_arn"] = args.role_arn
        if args.external_id:
            access["external_id"] = args.external_id
        check_aws_settings(access, where)
        checkpoint = args.checkpoint or section.get("checkpoint") or f"backfill-{bucket}.sqlite"
        sink_kind = getattr(args, "sink", None) or config.section("sink").get("type")
        if not args.enqueue:
            if not sink_kind:
                raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
            if sink_kind not in SINK_KINDS:
                raise ConfigError(f"{where}: sink.type {sink_kind!r} is not one of {', '.join(SINK_KINDS)}")
        out = getattr(args, "out", None) or config.section("file").get("out") or "out"
        return cls(scope=scope, aws=access, checkpoint=str(checkpoint), workers=workers,
                   progress=not args.no_progress, enqueue=args.enqueue, sink_kind=sink_kind, out=str(out),
                   dry_run=bool(getattr(args, "dry_run", False)))


def _date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def add_s3_backfill_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``backfill`` that read an S3 bucket instead of local files."""
    group = parser.add_argument_group("S3 backfill (instead of --source)")
    group.add_argument("--bucket", metavar="BUCKET", help="S3 bucket holding the AWSLogs/ tree")
    group.add_argument("--prefix", metavar="PREFIX", help="key prefix before AWSLogs/ (custom trail/flow-log prefix)")
    group.add_argument("--start", metavar="YYYY-MM-DD", help="first day to load (UTC, inclusive)")
    group.add_argument("--end", metavar="YYYY-MM-DD", help="last day to load (UTC, inclusive)")
    group.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    group.add_argument("--region", action="append", metavar="REGION", help="only this region (repeatable)")
    group.add_argument("--checkpoint", metavar="PATH",
                       help="SQLite file of finished objects "
                            "(default: backfill.checkpoint or ./backfill-BUCKET.sqlite)")
    group.add_argument("--workers", type=int, metavar="N",
                       help=f"worker processes (default: backfill.workers or {DEFAULT_WORKERS})")
    group.add_argument("--no-progress", action="store_true",
                       help="no live display: progress as log lines, summary as plain text")
    group.add_argument("--enqueue", metavar="QUEUE_URL",
                       help="put the objects on this SQS queue as S3 notifications for `forward` workers")
    group.add_argument("--role-arn", metavar="ARN", help="assume this role (STS, refreshed) to read the bucket")
    group.add_argument("--external-id", metavar="ID", help="external id for --role-arn")


# ---------------------------------------------------------------------------------------------
# AWS access


def _s3_client(aws: Mapping[str, Any]) -> Any:
    return aws_client(aws_session(aws), "s3", aws)


class _GuardedBody:
    """An S3 body whose network errors surface as ``OSError`` (which the pipeline dead-letters)."""

    def __init__(self, body: Any, key: str, failures: set[str]) -> None:
        self._body = body
        self._key = key
        self._failures = failures

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self._body.read(None if n < 0 else n)
            return data
        except (BotoCoreError, ClientError, OSError, ValueError) as exc:
            self._failures.add(self._key)
            raise OSError(f"reading s3 object failed: {exc}") from exc
        except Exception as exc:
            # urllib3 protocol errors (a dropped connection mid-body) are not OSErrors.
            if type(exc).__module__.startswith(("urllib3", "http.client")):
                self._failures.add(self._key)
                raise OSError(f"reading s3 object failed: {exc}") from exc
            raise

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._body.close()


def s3_work_unit(client: Any, bucket: str, obj: PlannedObject, failures: set[str]) -> WorkUnit:
    """A work unit reading exactly the listed version (If-Match on the ETag) of one object."""

    def open_object() -> IO[bytes]:
        try:
            response = client.get_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
        except (ClientError, BotoCoreError) as exc:
            failures.add(obj.key)
            raise OSError(f"cannot get s3://{bucket}/{obj.key}: {exc}") from exc
        body = _GuardedBody(response["Body"], obj.key, failures)
        if obj.key.endswith(".parquet"):
            # Parquet is read by random access, which a streaming body cannot give.
            return io.BytesIO(body.read())
        return body  # type: ignore[return-value]

    return WorkUnit(origin=f"s3://{bucket}/{obj.key}", key=obj.key, open=open_object, size=obj.size,
                    type_hint=obj.kind, etag=obj.etag)


# ---------------------------------------------------------------------------------------------
# Workers


@dataclass
class Tally:
    """Per-dataset outcome counts a worker hands back; summed over workers for the summary."""

    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Fold another worker's counts into these."""
        self.written.update(other.written)
        self.skipped.update(other.skipped)
        self.dead_lettered.update(other.dead_lettered)

    def datasets(self) -> list[str]:
        """Datasets with any count, sorted."""
        return sorted(set(self.written) | set(self.skipped) | set(self.dead_lettered))


class _CountingProcessor(RecordProcessor):
    """Counts, per object and per dataset, what the reader made of it (the checkpoint stores the count)."""

    def __init__(self, config: AppConfig, tally: Tally, keep_raw: bool = False) -> None:
        super().__init__(config, keep_raw=keep_raw)
        self._tally = tally
        self.records: dict[str, int] = {}

    def process(self, unit: WorkUnit) -> Iterator[NormalizedChunk | DeadLetter | Skipped]:
        dataset = DATASET_OF.get(unit.type_hint or "", "unknown")
        records = 0
        for item in super().process(unit):
            if isinstance(item, NormalizedChunk):
                records += len(item.docs)
            elif isinstance(item, DeadLetter):
                records += 1
                self._tally.dead_lettered[dataset] += 1
            else:
                records += item.count
                self._tally.skipped[dataset] += item.count
            yield item
        self.records[unit.origin] = records


class _TallySink:
    """Passes batches to the real sink and counts what it delivered or refused, per dataset."""

    def __init__(self, inner: Sink, tally: Tally) -> None:
        self._inner = inner
        self._tally = tally

    @property
    def needs_originals(self) -> bool:
        """Mirror the real sink."""
        return needs_originals(self._inner)

    @property
    def waits_on_io(self) -> bool:
        """Mirror the real sink."""
        return waits_on_io(self._inner)

    def send(self, batch: Batch) -> Delivery:
        """Deliver and count."""
        delivery = self._inner.send(batch)
        sent = Counter(batch.datasets)
        if delivery.dead_lettered:
            dataset_of = dict(zip(batch.origins, batch.datasets, strict=True))
            for letter in delivery.dead_lettered:
                dataset = dataset_of.get(letter.origin, "unknown")
                sent[dataset] -= 1
                self._tally.dead_lettered[dataset] += 1
        self._tally.written.update(sent)
        return delivery

    def close(self) -> None:
        """Close the real sink."""
        self._inner.close()


def repair_ndjson_tails(directory: str | Path) -> int:
    """Cut a half-written last line (left by a kill mid-write) off every NDJSON file; returns bytes cut.

    The cut record belongs to an object that was not yet checkpointed, so the resumed run writes it again.
    """
    cut = 0
    for path in Path(directory).glob("*.ndjson"):
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                continue
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                continue
            pos, tail = size, b""
            while pos > 0 and b"\n" not in tail:
                step = min(1 << 16, pos)
                pos -= step
                handle.seek(pos)
                tail = handle.read(step) + tail
            keep = pos + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
            handle.truncate(keep)
            cut += size - keep
    return cut


@dataclass(frozen=True)
class _WorkerSpec:
    index: int
    settings: BackfillSettings
    config: AppConfig
    parent_pid: int  # 0 in the main process: nothing to watch


# Events from a worker to the parent: ("object", key, size, records, failed), ("tally", Tally),
# ("fatal", message), ("exit", index).
Event = tuple[Any, ...]


class _StopFlag:
    """Set by SIGTERM: stop taking objects, flush, checkpoint what was delivered, exit cleanly."""

    def __init__(self) -> None:
        self.stopped = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopped = True


def _open_sink(spec: _WorkerSpec) -> Sink:
    settings = spec.settings
    kind = str(settings.sink_kind)
    if kind == "file" and settings.workers > 1:
        sink: Sink = FileSink(settings.out, name_suffix=f".{spec.index}")
    elif kind == "file":
        sink = FileSink(settings.out)
    else:
        sink = build_sink(kind, spec.config, os.environ, check=not settings.dry_run)
    return DryRunSink(sink) if settings.dry_run else sink


def _work(spec: _WorkerSpec, objects: Iterable[PlannedObject], report: Callable[[Event], None],
          stop: _StopFlag) -> None:
    """Run one pipeline over ``objects``; checkpoint and report each object once it is settled."""
    settings = spec.settings
    client = _s3_client(settings.aws)
    tally = Tally()
    failures: set[str] = set()
    checkpoint = Checkpoint(settings.checkpoint)
    sink = _TallySink(_open_sink(spec), tally)
    processor = _CountingProcessor(spec.config, tally, keep_raw=needs_originals(sink))
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


def _queued(tasks: Any, stop: _StopFlag, parent_pid: int) -> Iterator[PlannedObject]:
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


def _worker_main(spec: _WorkerSpec, tasks: Any, events: Any) -> None:
    """Entry point of a worker process."""
    stop = _StopFlag()
    stop.install()
    # Ctrl-C reaches the whole process group; the parent decides, the worker stops via SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _work(spec, _queued(tasks, stop, spec.parent_pid), events.put, stop)
    except PreviewDone as done:
        events.put(("fatal", str(done)))
    except Exception as exc:  # reported to the parent, which stops the run
        events.put(("fatal", f"worker {spec.index}: {exc}"))
    finally:
        events.put(("exit", spec.index))


# ---------------------------------------------------------------------------------------------
# Progress and summary


@dataclass
class BackfillResult:
    """What a run did, for the summary table and the exit status."""

    listed: int = 0
    skipped_objects: int = 0
    done: int = 0
    failed: int = 0
    bytes_read: int = 0
    records: int = 0
    list_calls: int = 0
    elapsed: float = 0.0
    tally: Tally = field(default_factory=Tally)
    interrupted: bool = False
    fatal: str | None = None

    def rows(self) -> list[tuple[str, str]]:
        """The summary as label/value rows (the same for the table and the plain text)."""
        rate = self.records / self.elapsed if self.elapsed > 0 else 0.0
        rows = [
            ("objects listed", str(self.listed)),
            ("objects done", str(self.done)),
            ("objects skipped (already in checkpoint)", str(self.skipped_objects)),
            ("objects failed", str(self.failed)),
        ]
        for dataset in self.tally.datasets():
            rows.append((f"{dataset} records written", str(self.tally.written[dataset])))
            rows.append((f"{dataset} records skipped", str(self.tally.skipped[dataset])))
            rows.append((f"{dataset} records dead-lettered", str(self.tally.dead_lettered[dataset])))
        rows += [
            ("bytes read", f"{self.bytes_read} ({_human_bytes(self.bytes_read)})"),
            ("elapsed", f"{self.elapsed:.1f} s"),
            ("records/s", f"{rate:.0f}"),
        ]
        return rows


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} TB"


def render_summary(result: BackfillResult, console: Console, plain: bool) -> None:
    """The closing summary: a table on a terminal, ``label: value`` lines for unattended runs."""
    title = "backfill interrupted (re-run to resume)" if result.interrupted else "backfill summary"
    if plain:
        console.print(title, markup=False, highlight=False, soft_wrap=True)
        for label, value in result.rows():
            console.print(f"{label}: {value}", markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=title)
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    for label, value in result.rows():
        table.add_row(label, value)
    console.print(table)


class _ProgressView:
    """Live bars (objects, bytes, records/s, ETA, errors) or, without a terminal, a periodic log line."""

    def __init__(self, console: Console, live: bool, objects: int, total_bytes: int) -> None:
        self._objects = objects
        self._total_bytes = total_bytes
        self._live = live
        self._start = time.monotonic()
        self._last_log = self._start
        self._progress: Progress | None = None
        if live:
            self._progress = Progress(
                TextColumn("[bold]backfill"), BarColumn(), TaskProgressColumn(),
                TextColumn("{task.fields[objects]} objects"), DownloadColumn(),
                TextColumn("{task.fields[rate]} records/s"), TextColumn("errors {task.fields[errors]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                transient=False)
            self._task = self._progress.add_task("backfill", total=max(total_bytes, 1),
                                                 objects=f"0/{objects}", rate="0", errors=0)

    def __enter__(self) -> _ProgressView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, result: BackfillResult, finished_objects: int) -> None:
        """Show the counts so far."""
        elapsed = time.monotonic() - self._start
        rate = result.records / elapsed if elapsed > 0 else 0.0
        if self._progress is not None:
            self._progress.update(self._task, completed=result.bytes_read,
                                  objects=f"{finished_objects}/{self._objects}", rate=f"{rate:,.0f}",
                                  errors=result.failed + sum(result.tally.dead_lettered.values()))
        elif time.monotonic() - self._last_log >= PROGRESS_LOG_SECONDS:
            self._last_log = time.monotonic()
            log.info("progress: %d/%d objects, %s of %s, %.0f records/s, %d failed", finished_objects,
                     self._objects, _human_bytes(result.bytes_read), _human_bytes(self._total_bytes), rate,
                     result.failed)


# ---------------------------------------------------------------------------------------------
# Running


def run_s3_backfill(args: argparse.Namespace, config: AppConfig, console: Console | None = None) -> int:
    """List the range, then enqueue it or load it into the sink; exit 0 when every object settled cleanly."""
    settings = BackfillSettings.from_args(args, config)
    console = console or Console(stderr=True)
    if logging.getLogger("botocore").level == logging.NOTSET:
        # botocore announces where it found credentials and endpoints at INFO; not news in a run log.
        logging.getLogger("botocore").setLevel(logging.WARNING)
    started = time.monotonic()
    plan = plan_backfill(_s3_client(settings.aws), settings.scope)
    scope = settings.scope
    log.info("listed %d objects (%s) in %d day partitions of s3://%s/%s with %d List calls",
             len(plan.objects), _human_bytes(plan.total_bytes), len(plan.partitions), scope.bucket, scope.prefix,
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
        with _ProgressView(console, live, len(todo), sum(o.size for o in todo)) as view:
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


def _on_event(result: BackfillResult, view: _ProgressView, event: Event) -> None:
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
                    result: BackfillResult, view: _ProgressView) -> None:
    stop = _StopFlag()
    previous = signal.getsignal(signal.SIGTERM)
    stop.install()
    try:
        _work(_WorkerSpec(0, settings, config, 0), todo, lambda e: _on_event(result, view, e), stop)
    except PreviewDone as done:
        print(done, file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_workers(settings: BackfillSettings, config: AppConfig, todo: list[PlannedObject],
                 result: BackfillResult, view: _ProgressView) -> None:
    # spawn, not fork: boto3 and the sinks hold threads and sockets that must not be copied.
    ctx = mp.get_context("spawn")
    tasks: Any = ctx.Queue()
    events: Any = ctx.Queue()
    # Largest first, so the run does not end waiting on one big object picked up last.
    for obj in sorted(todo, key=lambda o: -o.size):
        tasks.put(obj)
    for _ in range(settings.workers):
        tasks.put(None)
    procs = [ctx.Process(target=_worker_main, name=f"backfill-worker-{i}",
                         args=(_WorkerSpec(i, settings, config, os.getpid()), tasks, events))
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


def _drain(events: Any, procs: list[Any], result: BackfillResult, view: _ProgressView) -> None:
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


# ---------------------------------------------------------------------------------------------
# Enqueue


def s3_notification(bucket: str, obj: PlannedObject, region: str) -> dict[str, Any]:
    """An S3 ``ObjectCreated`` event record for an existing object, as S3 itself would send it."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "aws-siem-connector-backfill"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "aws-siem-connector-backfill",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": ""}, "arn": f"arn:aws:s3:::{bucket}"},
            # S3 URL-encodes keys in notifications (space as '+', '=' as %3D); consumers unquote_plus them.
            "object": {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "eTag": obj.etag,
                       "sequencer": uuid.uuid4().hex[:16].upper()},
        },
    }


def _queue_region(queue_url: str, fallback: str) -> str:
    host = urlparse(queue_url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    return fallback


def enqueue_plan(plan: BackfillPlan, queue_url: str, aws: Mapping[str, Any]) -> int:
    """Send one S3 notification per object (ten per SendMessageBatch call); returns how many were sent."""
    session = aws_session(aws)
    region = session.region_name or "us-east-1"
    queue_region = _queue_region(queue_url, region)
    sqs = aws_client(session, "sqs", aws) if queue_region == region else \
        aws_client(aws_session({**aws, "region": queue_region}), "sqs", aws)
    sent = 0
    objects = plan.objects
    for start in range(0, len(objects), SQS_BATCH):
        chunk = objects[start:start + SQS_BATCH]
        entries = [{"Id": str(i), "MessageBody": orjson.dumps(
            {"Records": [s3_notification(plan.scope.bucket, obj, region)]}).decode()}
            for i, obj in enumerate(chunk)]
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot send to {queue_url} after {sent} objects: {exc}") from exc
        failed = response.get("Failed") or []
        if failed:
            raise SourceError(f"{queue_url} refused {len(failed)} messages after {sent} objects: "
                              f"{failed[0].get('Message', failed[0].get('Code'))}")
        sent += len(chunk)
    return sent
