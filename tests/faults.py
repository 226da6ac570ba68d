"""The reconciliation every fault scenario ends with: what went in, what reached the sink, what was
dead-lettered, and what is in none of those outcomes (lost).

A fault test builds one ``Reconciliation`` from what it observed (ids read back from the sink's
output, the receiver's file or the cluster, and from the dead-letter store), prints its line and
asserts that nothing was lost; ``pytest -m faults -s`` shows one line per scenario.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of one fault scenario, counted in records.

    ``records_in`` records went in; ``delivered`` distinct ones reached the sink, ``duplicates``
    more deliveries came on top (at-least-once allows them); ``dead_lettered`` are in the
    dead-letter store and ``skipped`` were left out by a named rule; ``lost`` are in none of these.
    """

    scenario: str
    records_in: int
    delivered: int
    duplicates: int
    dead_lettered: int
    lost: int
    skipped: int = 0

    def __post_init__(self) -> None:
        if not _KEBAB.fullmatch(self.scenario):
            raise ValueError(f"scenario name {self.scenario!r} is not kebab-case")

    @classmethod
    def of(cls, scenario: str, source: Iterable[str], delivered: Iterable[str],
           dead_lettered: Iterable[str] = (), skipped: Iterable[str] = ()) -> Reconciliation:
        """Reconcile by record id: ``source`` the ids that went in, ``delivered`` every id the sink
        received, ``dead_lettered`` and ``skipped`` the ids that ended there. A delivery beyond
        the number of times an id went in is a duplicate (a Config snapshot repeats its history's
        items under the same ids: those are not). A record is lost when its id is in none of the
        three outcomes."""
        expected = Counter(source)
        arrivals = Counter(delivered)
        duplicates = sum(max(0, n - expected.get(i, 1)) for i, n in arrivals.items())
        ins, unique = set(expected), set(arrivals)
        dead, left_out = set(dead_lettered), set(skipped)
        return cls(scenario, len(ins), len(unique), duplicates, len(dead), len(ins - unique - dead - left_out),
                   len(left_out))

    def line(self) -> str:
        """``scenario=NAME in=N delivered=N duplicates=N dead_lettered=N lost=N``."""
        return (f"scenario={self.scenario} in={self.records_in} delivered={self.delivered} "
                f"duplicates={self.duplicates} dead_lettered={self.dead_lettered} lost={self.lost}")

    def assert_nothing_lost(self) -> None:
        """Print the line, then fail when a record is in none of the outcomes."""
        print(self.line())
        assert self.lost == 0, f"{self.lost} records lost: {self.line()}"


def dead_letter_ids(entries: Iterable[dict[str, Any]], line_id_prefix: str | None = None) -> list[str]:
    """The record each stored dead letter stands for, by id: a refused document's ``event.id``, a
    CloudTrail record's ``eventID``, a flow line's deterministic id (``line_id_prefix`` and the line
    number); a letter for a whole object, message or payload (no position in its location) stands
    for its origin; else where it was read (``origin location``)."""
    ids: list[str] = []
    for entry in entries:
        record, location = entry.get("record"), str(entry.get("location", ""))
        event = record.get("event") if isinstance(record, dict) else None
        if isinstance(event, dict) and event.get("id"):
            ids.append(str(event["id"]))
        elif isinstance(record, dict) and record.get("eventID"):
            ids.append(str(record["eventID"]))
        elif line_id_prefix is not None and location.startswith("line "):
            ids.append(line_id_prefix + location.split()[-1])
        elif not any(char.isdigit() for char in location):
            ids.append(str(entry.get("origin")))
        else:
            ids.append(f"{entry.get('origin')} {location}")
    return ids
