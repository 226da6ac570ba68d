"""What every normalizer returns: serialized documents plus the two fields sinks index by."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from connector.sinks.base import DeadLetter


@dataclass(slots=True)
class Normalized:
    """Documents of one raw batch, serialized once (``encoded``), with ``event.id`` and
    ``@timestamp`` of each beside them, and the records that could not be mapped."""

    encoded: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # by filter rule, when the normalizer filters
