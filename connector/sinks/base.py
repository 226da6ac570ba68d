"""The contract between the pipeline and every sink: batches in, per-record outcomes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class Batch:
    """Documents settled together by one ``Sink.send``; parallel lists, index i is one record.

    ``origins[i]`` names where record i came from (``s3://bucket/key``, a file path, or
    ``logs://group/stream``); ``originals[i]`` is the raw AWS record text when it is kept (sinks
    that forward the source record verbatim need it), else ``None``.
    """

    docs: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    originals: list[str | None] = field(default_factory=list)

    def add(self, doc: dict[str, Any], dataset: str, origin: str, original: str | None = None) -> None:
        """Append one record."""
        self.docs.append(doc)
        self.datasets.append(dataset)
        self.origins.append(origin)
        self.originals.append(original)

    def __len__(self) -> int:
        return len(self.docs)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that will not be delivered, with the reason and where it came from."""

    record: Any
    reason: str
    origin: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a batch: every record is either delivered or dead-lettered."""

    delivered: int
    dead_lettered: list[DeadLetter] = field(default_factory=list)


class Sink(Protocol):
    """Delivers batches; ``send`` returns only when every record of the batch is settled.

    Transient failures are retried inside ``send``; a record the destination refuses is returned
    as a ``DeadLetter``; a refusal of the whole batch (bad credentials, missing index) raises
    ``FatalSinkError`` so that nothing is acknowledged.
    """

    def send(self, batch: Batch) -> Delivery: ...

    def close(self) -> None: ...
