"""What a format reader hands on: raw entries with where they were, and a tally of what it could
not use, so that one warning per feed can say how many entries were lost and show the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class FeedFormatError(ValueError):
    """The feed cannot be read as its format at all (the loader adds the feed's name and path)."""


class Entry(NamedTuple):
    """One candidate indicator as the feed wrote it, with the metadata the feed gave."""

    value: str
    where: str  # "line 12", "indicator--…", "attribute 3 of event …": for the warning's example
    description: Any = None
    first_seen: Any = None
    last_seen: Any = None
    confidence: Any = None
    reference: Any = None


@dataclass
class Tally:
    """Counts of entries a parse set aside. ``invalid`` and ``unsupported`` are losses the operator
    should see (a warning); ``ignored`` are deliberate skips by rule (an info line)."""

    invalid: int = 0
    first_invalid: str = ""
    unsupported: int = 0
    first_unsupported: str = ""
    ignored: dict[str, int] = field(default_factory=dict)

    def add_invalid(self, value: str, where: str) -> None:
        """An entry whose value is not an IP address, network or domain name."""
        if not self.invalid:
            self.first_invalid = f"{_short(value)!r} at {where}"
        self.invalid += 1

    def add_unsupported(self, what: str, where: str) -> None:
        """An entry of a kind this reader cannot turn into indicators (a STIX pattern it cannot express)."""
        if not self.unsupported:
            self.first_unsupported = f"{_short(what)!r} at {where}"
        self.unsupported += 1

    def add_ignored(self, reason: str) -> None:
        """An entry skipped by rule (``to_ids`` false, revoked, expired, another attribute type)."""
        self.ignored[reason] = self.ignored.get(reason, 0) + 1

    def losses(self) -> str:
        """The warning text, empty when nothing was lost."""
        parts = []
        if self.invalid:
            parts.append(f"{_entries(self.invalid)} not an IP address, network or domain name "
                         f"(first: {self.first_invalid})")
        if self.unsupported:
            parts.append(f"{_entries(self.unsupported)} with a pattern that cannot be matched "
                         f"(first: {self.first_unsupported})")
        return "; ".join(parts)

    def skips(self) -> str:
        """The deliberate skips, for the info line."""
        return ", ".join(f"{count:,} {reason}" for reason, count in sorted(self.ignored.items()))


def _entries(count: int) -> str:
    return f"{count:,} {'entry' if count == 1 else 'entries'}"


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
