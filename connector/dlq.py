"""Dead-letter store: records a sink refused or a parser could not read, each with its reason
and location, one JSON object per line, so they can be inspected and replayed."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import IO, Any

import orjson

from connector.normalize.timestamps import utc_now_iso
from connector.sinks.base import DeadLetter

MAX_RECORD_CHARS = 64 * 1024


def _bounded(record: Any) -> Any:
    # A garbage "line" can be hundreds of megabytes; the reason says what was wrong with it.
    if isinstance(record, (str, bytes)) and len(record) > MAX_RECORD_CHARS:
        head = record[:MAX_RECORD_CHARS]
        text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
        return f"{text}... [truncated: {len(record)} characters in all]"
    return record


def dead_letter_json(letter: DeadLetter) -> bytes:
    """One dead letter as a JSON line (records that are not JSON-serializable become text)."""
    entry: dict[str, Any] = {
        "time": utc_now_iso(),
        "origin": letter.origin,
        "location": letter.location,
        "reason": letter.reason,
        "record": _bounded(letter.record),
    }
    return orjson.dumps(entry, default=repr, option=orjson.OPT_NON_STR_KEYS) + b"\n"


class DeadLetterStore:
    """Appends dead letters to a file (or to stderr when no path is configured), thread-safe."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        self._out: IO[bytes] | None = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._out = open(path, "ab")  # noqa: SIM115 - closed in close()

    def write(self, letters: list[DeadLetter]) -> None:
        """Store ``letters``; flushed at once, since a crash must not lose them."""
        if not letters:
            return
        data = b"".join(dead_letter_json(letter) for letter in letters)
        with self._lock:
            if self._out is None:
                text = data.decode("utf-8", "replace")
                sys.stderr.write("".join("dead letter: " + line for line in text.splitlines(keepends=True)))
                sys.stderr.flush()
            else:
                self._out.write(data)
                self._out.flush()
            self.count += len(letters)

    def close(self) -> None:
        """Close the file (never stderr)."""
        if self._out is not None:
            self._out.close()
