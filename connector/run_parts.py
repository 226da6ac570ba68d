"""The three parts every run opens (processor, sink, dead-letter store) and closes in one order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.formats.config import OversizedFetcher
from connector.pipeline import Pipeline, RecordProcessor
from connector.sinks.base import Sink
from connector.sinks.factory import needs_originals
from connector.sources.base import WorkUnit


@dataclass
class RunParts:
    """A run's processor, sink and dead-letter store; ``close`` flushes the sink first, so that
    the dead letters it reports while closing still reach an open store."""

    processor: RecordProcessor
    sink: Sink
    dlq: DeadLetterStore
    batch_docs: int = 5000

    @classmethod
    def open(cls, config: AppConfig, sink: Sink, dlq_path: str | None = None,
             fetch_oversized: OversizedFetcher | None = None) -> RunParts:
        """The usual parts around ``sink``: a processor that keeps each raw record only when the
        sink sends originals, and the dead-letter store at ``dlq_path`` (the configured one by default)."""
        processor = RecordProcessor(config, keep_raw=needs_originals(sink), fetch_oversized=fetch_oversized)
        return cls(processor, sink, DeadLetterStore(dlq_path or config.dlq_path), config.pipeline.batch_docs)

    def pipeline(self, on_settled: Callable[[WorkUnit], None] | None = None) -> Pipeline:
        """A pipeline over these parts."""
        return Pipeline(self.processor, self.sink, self.dlq, self.batch_docs, on_settled=on_settled)

    def close(self) -> None:
        """Close the sink, then the store and the processor, even when closing the sink fails."""
        try:
            self.sink.close()
        finally:
            try:
                self.dlq.close()
            finally:
                self.processor.close()
