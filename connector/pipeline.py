"""source -> format -> normalize -> enrich -> batch -> sink, with acknowledgements.

A work unit is acknowledged (``on_settled``) only after every record read from it has been
delivered by the sink or written to the dead-letter store.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import IO

from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.enrich.addresses import AddressBook
from connector.enrich.geoip import GeoIpLookup
from connector.formats.base import READ_ERRORS, Parsed, RawBatch, Skipped, payload_chunks, read_error_reason
from connector.formats.cloudtrail import CloudTrailReader
from connector.formats.config import ConfigReader, OversizedFetcher
from connector.formats.detect import CLOUDTRAIL, CONFIG, VPCFLOW, detect_from_content, detect_from_key
from connector.formats.vpcflow import FlowLogReader
from connector.normalize.cloudtrail import CloudTrailNormalizer
from connector.normalize.config import ConfigNormalizer
from connector.normalize.hotloop import collector_paused
from connector.normalize.vpcflow import FlowNormalizer, record_id_prefix
from connector.sinks.base import Batch, DeadLetter, DecodedDocs, Delivery, Sink, waits_on_io
from connector.sources.base import WorkUnit
from connector.transform.build import document_stage, flow_filters, threat_marker
from connector.transform.filters import DatasetFilters

log = logging.getLogger(__name__)
UNDETECTED_RULE = "object of unknown type (not a flow log, CloudTrail or Config object)"
SNIFF_BYTES = 64 * 1024


@dataclass(slots=True)
class NormalizedChunk:
    """Serialized documents from one object and one dataset, ready for a sink."""

    dataset: str
    encoded: list[bytes]
    ids: list[str]
    timestamps: list[str]
    originals: list[str | None] | None
    skipped: Counter[str] | None = None  # left out by filter rules while normalizing

    @property
    def docs(self) -> DecodedDocs:
        """The documents, parsed on access (tests, tools)."""
        return DecodedDocs(self.encoded)


@dataclass
class RunSummary:
    """Counts for the closing line and table: every record read is written, skipped or dead-lettered."""

    objects: int = 0
    written: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    by_dataset: Counter[str] = field(default_factory=Counter)
    skipped_by_rule: Counter[str] = field(default_factory=Counter)

    @property
    def read(self) -> int:
        """Records (and whole skipped objects) read."""
        return self.written + self.dead_lettered + self.skipped

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        return (f"read {self.read}, written {self.written}, skipped {self.skipped}, "
                f"dead-lettered {self.dead_lettered} ({self.objects} objects)")

    def rules_line(self) -> str | None:
        """The rules that skipped records, with their counts (``None`` when none did)."""
        if not self.skipped_by_rule:
            return None
        return "skipped by rule: " + ", ".join(f"{rule}={n}" for rule, n in sorted(self.skipped_by_rule.items()))

    def lines(self) -> list[str]:
        """The rules line (when any rule skipped records), then the summary line, which stays last."""
        rules = self.rules_line()
        return [self.line()] if rules is None else [rules, self.line()]


class RecordProcessor:
    """Reads a work unit in its format and normalizes it; one per process (caches live here)."""

    def __init__(self, config: AppConfig, keep_raw: bool = False,
                 fetch_oversized: OversizedFetcher | None = None) -> None:
        self._geoip = GeoIpLookup(config.geoip) if (config.geoip.city_db or config.geoip.asn_db) else None
        self.addresses = AddressBook(self._geoip)
        settings = config.normalize
        self._keep_raw = keep_raw
        self._flow_reader = FlowLogReader(settings.vpcflow_format, settings.drop_nodata)
        self._drop_nodata = settings.drop_nodata
        self._custom_flow_readers: dict[str, FlowLogReader] = {}
        self._trail_reader = CloudTrailReader(keep_original=settings.keep_original or keep_raw)
        self._config_reader = ConfigReader(fetch_oversized)
        self._marker = marker = threat_marker(config)
        rules = flow_filters(config)
        if rules is None and marker is not None:
            rules = DatasetFilters.of((), ())  # the flow normalizer marks flows: two lookups a record
        # The flow normalizer marks flows whenever it filters them (rules is set whenever marker is).
        self._flows = FlowNormalizer(self.addresses, settings.keep_original, rules, marker)
        self._trails = CloudTrailNormalizer(self.addresses, settings.keep_original)
        self._configs = ConfigNormalizer(settings.keep_original)
        self._stage = document_stage(config, marker, normalized_apart=("aws.vpcflow",) if rules else ())

    def detect(self, unit: WorkUnit) -> str | None:
        """The unit's type: as hinted, else from its key, else from its first bytes."""
        if unit.type_hint and unit.type_hint != "auto":
            return unit.type_hint
        kind = detect_from_key(unit.key)
        if kind is not None:
            return kind
        with closing(unit.open()) as raw:
            sample = b""
            try:
                # Plain bytes pass through unchanged, so a Parquet object's magic shows in the sample.
                for chunk in payload_chunks(raw):
                    sample += chunk
                    if len(sample) >= SNIFF_BYTES:
                        break
            except READ_ERRORS:
                pass
        return detect_from_content(sample)

    def parse(self, unit: WorkUnit, kind: str) -> Iterator[Parsed]:
        """Raw records of the unit in its format."""
        with closing(unit.open()) as raw:
            if kind == VPCFLOW:
                reader = self._flow_reader_for(unit.vpcflow_format)
                if unit.key.endswith(".parquet") or _starts_with(raw, b"PAR1"):
                    yield from reader.read_parquet(raw, unit.origin)
                else:
                    yield from reader.read(raw, unit.origin)
            elif kind == CLOUDTRAIL:
                yield from self._trail_reader.read(raw, unit.key if "/" in unit.key else unit.origin)
            elif kind == CONFIG:
                yield from self._config_reader.read(raw, unit.origin)
            else:
                raise ValueError(f"unknown type {kind!r}")

    def _flow_reader_for(self, custom_format: str | None) -> FlowLogReader:
        if custom_format is None:
            return self._flow_reader
        reader = self._custom_flow_readers.get(custom_format)
        if reader is None:
            reader = FlowLogReader(custom_format, self._drop_nodata)
            self._custom_flow_readers[custom_format] = reader
        return reader

    def normalize(self, raw: RawBatch, origin: str, id_key: str,
                  record_ids: Sequence[str] | None = None) -> tuple[NormalizedChunk, list[DeadLetter]]:
        """ECS documents for one raw batch, plus the records that could not be mapped."""
        if raw.dataset == "aws.vpcflow":
            out = self._flows.normalize(raw, id_key, record_ids)
            originals: list[str | None] | None = list(raw.records) if self._keep_raw else None
        elif raw.dataset == "aws.cloudtrail":
            out = self._trails.normalize(raw, origin)
            originals = raw.originals if self._keep_raw else None
        else:
            out = self._configs.normalize(raw, origin)
            originals = None
        if out.dead and originals is not None:
            # Keep originals aligned with the documents that survived.
            failed = {d.location for d in out.dead}
            originals = [o for o, loc in zip(originals, raw.locations, strict=True)
                         if _location_label(raw.dataset, loc) not in failed]
        if out.skipped and raw.dataset == "aws.vpcflow" and self._keep_raw:
            # Keep originals aligned with the documents the filter rules kept (by their ids).
            prefix = record_id_prefix(id_key)
            line_of = {prefix + str(loc) if record_ids is None else record_ids[loc - 1]: line
                       for line, loc in zip(raw.records, raw.locations, strict=True)}
            originals = [line_of[eid] for eid in out.ids]
        chunk = NormalizedChunk(raw.dataset, out.encoded, out.ids, out.timestamps, originals, out.skipped or None)
        return chunk, [DeadLetter(d.record, d.reason, origin, d.location) for d in out.dead]

    def process(self, unit: WorkUnit) -> Iterator[NormalizedChunk | DeadLetter | Skipped]:
        """Everything that comes of one unit: document chunks, dead letters, skips."""
        if self._marker is not None:
            self._marker.maybe_refresh()  # a long-running service picks up changed feeds
        try:
            kind = self.detect(unit)
        except OSError as exc:
            yield DeadLetter(None, f"cannot read: {exc}", unit.origin, "object")
            return
        if kind is None:
            yield Skipped(UNDETECTED_RULE, 1, unit.origin)
            return
        try:
            for item in self.parse(unit, kind):
                if isinstance(item, RawBatch):
                    if item.records:
                        chunk, dead = self.normalize(item, unit.origin, unit.key, unit.record_ids)
                        skipped = chunk.skipped or Counter()
                        if self._stage is not None:
                            skipped.update(self._stage.apply(chunk))
                        yield chunk
                        yield from dead
                        for rule, count in skipped.items():
                            yield Skipped(rule, count, unit.origin)
                else:
                    yield item
        except OSError as exc:
            yield DeadLetter(None, read_error_reason(exc), unit.origin, "object")

    def close(self) -> None:
        """Release the GeoIP databases."""
        if self._geoip is not None:
            self._geoip.close()


def _location_label(dataset: str, loc: int) -> str:
    return f"line {loc}" if dataset == "aws.vpcflow" else f"record {loc}"


def _starts_with(raw: IO[bytes], magic: bytes) -> bool:
    if not raw.seekable():
        return False
    head = raw.read(len(magic))
    raw.seek(0)
    return head == magic


@dataclass(slots=True)
class _InFlight:
    """A batch handed to the sender thread and the units to acknowledge once it is settled."""

    batch: Batch
    delivery: Future[Delivery]
    units: list[WorkUnit]


class Pipeline:
    """Drives units through a processor into a sink, batching across small objects.

    For a sink that waits on a network or a disk (``waits_on_io``), one batch at a time is sent
    from a background thread while the next one is read and normalized, so round trips and the
    server's work overlap with parsing; other sinks are called directly.
    Everything that touches the dead-letter store, the counters or ``on_settled`` stays on the
    caller's thread, in order; ``flush`` returns only when everything handed in is settled.
    """

    def __init__(self, processor: RecordProcessor, sink: Sink, dlq: DeadLetterStore, batch_docs: int = 5000,
                 on_settled: Callable[[WorkUnit], None] | None = None) -> None:
        self._processor = processor
        self._sink = sink
        self._dlq = dlq
        self._batch_docs = batch_docs
        self._on_settled = on_settled
        self.summary = RunSummary()
        self._batch = Batch()
        self._pending: list[WorkUnit] = []
        self._in_flight: _InFlight | None = None
        self._sender: ThreadPoolExecutor | None = None
        self._background = waits_on_io(sink)
        self._flushes = 0

    def run(self, units: Iterable[WorkUnit]) -> RunSummary:
        """Process every unit; returns the counts. Sink errors propagate with nothing acknowledged."""
        with collector_paused():
            try:
                for unit in units:
                    self.process_unit(unit)
                self.flush()
            finally:
                self.close()
        return self.summary

    def process_unit(self, unit: WorkUnit) -> None:
        """Process one unit; it is acknowledged once the batches holding its records are settled."""
        self.summary.objects += 1
        dead = self._consume(unit)
        if dead:
            self._dlq.write(dead)
            self.summary.dead_lettered += len(dead)
        self._pending.append(unit)
        if len(self._batch) >= self._batch_docs:
            self._send()
        if not self._batch.encoded:
            # Every record of the unit has left: it is settled with the batch in flight, or now.
            if self._in_flight is not None:
                self._in_flight.units.extend(self._pending)
                self._pending = []
            else:
                self._acknowledge()
            self._collect()

    def _consume(self, unit: WorkUnit) -> list[DeadLetter]:
        # A method of its own so that no reference to the unit's documents outlives it.
        summary = self.summary
        dead: list[DeadLetter] = []
        for item in self._processor.process(unit):
            if isinstance(item, NormalizedChunk):
                n = len(item.encoded)
                batch = self._batch
                batch.encoded.extend(item.encoded)
                batch.ids.extend(item.ids)
                batch.timestamps.extend(item.timestamps)
                batch.datasets.extend([item.dataset] * n)
                batch.origins.extend([unit.origin] * n)
                batch.originals.extend(item.originals if item.originals is not None else [None] * n)
                summary.by_dataset[item.dataset] += n
                del batch
                if len(self._batch) >= self._batch_docs:
                    self._send()
            elif isinstance(item, DeadLetter):
                dead.append(item)
            else:
                summary.skipped += item.count
                summary.skipped_by_rule[item.rule] += item.count
        return dead

    def _collect(self) -> None:
        # The cyclic collector stays paused while documents are in flight (they are acyclic and
        # freed by reference counting); between units, when few objects are alive, it runs
        # cheaply so that cycles made by libraries cannot accumulate.
        self._flushes += 1
        gc.collect(2 if self._flushes % 64 == 0 else 0)

    def _send(self) -> None:
        """Hand the batch to the sender thread, after settling the one still in flight."""
        batch, self._batch = self._batch, Batch()
        self._settle()
        if not batch.encoded:
            return
        # Units consumed before this send had their last records in this batch (or an earlier one).
        units, self._pending = self._pending, []
        if not self._background:
            self._settled(batch, self._sink.send(batch), units)
            return
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-send")
        self._in_flight = _InFlight(batch, self._sender.submit(self._sink.send, batch), units)

    def _settle(self) -> None:
        """Wait for the batch in flight; count and dead-letter its results, then acknowledge."""
        flight, self._in_flight = self._in_flight, None
        if flight is not None:
            # A sink error propagates here with the units unacknowledged.
            self._settled(flight.batch, flight.delivery.result(), flight.units)

    def _settled(self, batch: Batch, delivery: Delivery, units: list[WorkUnit]) -> None:
        """Count and dead-letter what the sink reported for ``batch``, then acknowledge ``units``."""
        self.summary.written += delivery.delivered
        if delivery.dead_lettered:
            self._dlq.write(delivery.dead_lettered)
            self.summary.dead_lettered += len(delivery.dead_lettered)
        accounted = delivery.delivered + len(delivery.dead_lettered)
        if accounted != len(batch):
            raise RuntimeError(f"sink settled {accounted} of {len(batch)} records; refusing to acknowledge")
        if self._on_settled is not None:
            for unit in units:
                self._on_settled(unit)

    def flush(self) -> None:
        """Send what is batched; returns when every unit handed in so far is settled and acknowledged."""
        self._send()
        self._settle()
        self._acknowledge()
        self._collect()

    def close(self) -> None:
        """Stop the sender thread once the batch in flight, if any, is done; a batch not settled
        by ``flush`` before this stays unacknowledged (its units are read again later)."""
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    def _acknowledge(self) -> None:
        pending, self._pending = self._pending, []
        if self._on_settled is not None:
            for unit in pending:
                self._on_settled(unit)
