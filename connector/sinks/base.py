"""The contract between the pipeline and every sink: batches in, per-record outcomes out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import orjson

# The event.dataset of every document the connector writes.
DATASETS = ("aws.vpcflow", "aws.cloudtrail", "aws.config")


class DecodedDocs(Sequence[dict[str, Any]]):
    """Read-only view that parses documents on access, for the few consumers that need fields."""

    __slots__ = ("_encoded",)

    def __init__(self, encoded: list[bytes]) -> None:
        self._encoded = encoded

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [orjson.loads(e) for e in self._encoded[index]]
        doc: dict[str, Any] = orjson.loads(self._encoded[index])
        return doc

    def __len__(self) -> int:
        return len(self._encoded)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (orjson.loads(e) for e in self._encoded)


@dataclass(slots=True)
class Batch:
    """Documents settled together by one ``Sink.send``; parallel lists, index i is one record.

    Documents travel serialized: ``encoded[i]`` is the JSON of record i, written once by the
    normalizer while the document is hot in cache; sinks splice it into their wire format.
    ``ids[i]`` is its ``event.id`` and ``timestamps[i]`` its ``@timestamp``, the two fields sinks
    need without parsing. ``origins[i]`` names where it came from (``s3://bucket/key``, a path,
    ``logs://group/stream``); ``originals[i]`` is the raw AWS record when it is kept, else ``None``.
    ``docs`` parses on demand, for consumers that need other fields.
    """

    encoded: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    originals: list[str | None] = field(default_factory=list)

    def add(self, doc: dict[str, Any], dataset: str, origin: str, original: str | None = None) -> None:
        """Append one record given as a document (serialized here)."""
        event = doc.get("event")
        event_id = event.get("id") if isinstance(event, dict) else None
        timestamp = doc.get("@timestamp")
        self.add_encoded(orjson.dumps(doc), str(event_id) if event_id is not None else "",
                         timestamp if isinstance(timestamp, str) else "", dataset, origin, original)

    def add_encoded(self, encoded: bytes, event_id: str, timestamp: str, dataset: str, origin: str,
                    original: str | None = None) -> None:
        """Append one record that is already serialized."""
        self.encoded.append(encoded)
        self.ids.append(event_id)
        self.timestamps.append(timestamp)
        self.datasets.append(dataset)
        self.origins.append(origin)
        self.originals.append(original)

    @property
    def docs(self) -> DecodedDocs:
        """The documents, parsed on access."""
        return DecodedDocs(self.encoded)

    def __len__(self) -> int:
        return len(self.encoded)


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


def waits_on_io(sink: object) -> bool:
    """Whether ``sink`` spends its time waiting on a network or a disk (its class says
    ``waits_on_io = True``). The pipeline then sends from a background thread while it reads on;
    a sink that only computes is called directly, since a second thread cannot speed it up."""
    return bool(getattr(sink, "waits_on_io", False))
