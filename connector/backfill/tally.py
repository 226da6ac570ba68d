"""Per-dataset counts of what a backfill wrote, skipped and dead-lettered, and the processor and sink
wrappers that take them, plus the per-object record count the checkpoint stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from connector.config import AppConfig
from connector.formats.base import Skipped
from connector.formats.detect import CLOUDTRAIL, CONFIG, VPCFLOW
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sinks.base import Batch, DeadLetter, Delivery, Sink, waits_on_io
from connector.sinks.factory import needs_originals
from connector.sources.base import WorkUnit

DATASET_OF = {VPCFLOW: "aws.vpcflow", CLOUDTRAIL: "aws.cloudtrail", CONFIG: "aws.config"}


@dataclass
class Tally:
    """Per-dataset outcome counts a worker hands back; summed over workers for the summary."""

    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    skipped_by_rule: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Fold another worker's counts into these."""
        self.written.update(other.written)
        self.skipped.update(other.skipped)
        self.dead_lettered.update(other.dead_lettered)
        self.skipped_by_rule.update(other.skipped_by_rule)

    def datasets(self) -> list[str]:
        """Datasets with any count, sorted."""
        return sorted(set(self.written) | set(self.skipped) | set(self.dead_lettered))


class CountingProcessor(RecordProcessor):
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
                self._tally.skipped_by_rule[item.rule] += item.count
            yield item
        self.records[unit.origin] = records


class TallySink:
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
