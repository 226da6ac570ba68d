"""Time conversions shared by the normalizers, cached because log records repeat timestamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class EpochFormatter:
    """Epoch seconds (as text) -> ``YYYY-MM-DDTHH:MM:SS.000Z``; memoized, flow logs reuse seconds."""

    def __init__(self, max_entries: int = 65_536) -> None:
        self._cache: dict[str, str] = {}
        self._max = max_entries
        self.get = self._cache.get

    def convert(self, text: str) -> str:
        """Format ``text``; raises ValueError naming the value when it is not epoch seconds."""
        try:
            seconds = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not epoch seconds") from None
        try:
            moment = time.gmtime(seconds)
        except (OverflowError, OSError):  # beyond the platform's time_t, or beyond what gmtime can place
            raise ValueError(f"{text!r} is out of the range of epoch seconds") from None
        out = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", moment)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[text] = out
        return out


def utc_now_iso() -> str:
    """Current time as ECS wants it for ``event.ingested``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_to_epoch(value: str) -> float:
    """``2026-11-27T10:00:00(.123)Z`` -> epoch seconds; used by sinks that need numeric time."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
