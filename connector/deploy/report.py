"""What a deploy did, or in a dry run would do, to each object: one line per object, a line per
failure that names the object and the reason, and the counts for the summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# outcome -> (the plan's word, the run's word, the plan's count word, the run's count word)
_WORDS = {
    "create": ("create", "created", "to create", "created"),
    "keep": ("exists", "exists", "kept", "kept"),
    "overwrite": ("overwrite", "overwrote", "to overwrite", "overwritten"),
    "update": ("update", "updated", "to update", "updated"),
    "unchanged": ("unchanged", "unchanged", "unchanged", "unchanged"),
    "fail": ("would fail", "failed", "would fail", "failed"),
}
_NOTES = {"keep": "(kept; --overwrite replaces it)"}


@dataclass
class Outcomes:
    """The outcome of each object of one kind (``noun``: "saved objects", "detection rules", ...)."""

    noun: str
    dry_run: bool
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str, label: str, detail: str = "") -> None:
        """One object's line: ``created dashboard aws-connector-network "AWS network: VPC flow logs"``."""
        word = _WORDS[outcome][0 if self.dry_run else 1]
        note = " ".join(part for part in (_NOTES.get(outcome, ""), detail) if part)
        self.lines.append(f"{word} {label}" + (f" {note}" if note else ""))
        self.counts[outcome] += 1

    def fail(self, label: str, reason: str) -> None:
        """One refused object: its label and the product's reason, on one line."""
        word = _WORDS["fail"][0 if self.dry_run else 1]
        self.failures.append(f"{word} {label}: {' '.join(reason.split())}")
        self.counts["fail"] += 1

    def summary(self) -> str:
        """``12 saved objects: 10 created, 2 kept`` (only the outcomes that occurred)."""
        column = 2 if self.dry_run else 3
        parts = [f"{self.counts[o]} {words[column]}" for o, words in _WORDS.items() if self.counts[o]]
        return f"{sum(self.counts.values())} {self.noun}" + (f": {', '.join(parts)}" if parts else "")


@dataclass(frozen=True)
class DeployReport:
    """Everything one ``deploy`` of content did: where, and the outcomes of each kind of object."""

    where: str
    outcomes: tuple[Outcomes, ...]
    dry_run: bool

    @property
    def failed(self) -> int:
        """Objects the product refused (or, in a dry run, that could not be checked)."""
        return sum(o.counts["fail"] for o in self.outcomes)

    def summary(self) -> str:
        """The last line: where, then each kind's counts."""
        prefix = "dry run, nothing changed: " if self.dry_run else ""
        return f"{prefix}{self.where}: " + "; ".join(o.summary() for o in self.outcomes)
