"""The three parts every run opens (processor, sink, dead-letter store) and closes in one order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connector.dlq import DeadLetterStore
from connector.pipeline import Pipeline, RecordProcessor
from connector.sinks.base import Sink
from connector.sources.base import WorkUnit


@dataclass
class RunParts:
    """A run's processor, sink and dead-letter store; ``close`` flushes the sink first, so that
    the dead letters it reports while closing still reach an open store."""

    processor: RecordProcessor
    sink: Sink
    dlq: DeadLetterStore
    batch_docs: int = 5000

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
