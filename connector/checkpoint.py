"""Durable backfill progress: the S3 objects whose every record is settled, in a SQLite file.

A row is written only after the pipeline acknowledged the object (its records are delivered or
dead-lettered), so a run killed at any point resumes without losing records; at worst the
objects in flight at the kill are read again, and their deterministic ids make that harmless.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from connector.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS finished (
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    records INTEGER NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (key, etag)
) WITHOUT ROWID
"""
# Several worker processes commit to one file; WAL lets readers and one writer proceed together,
# and the busy timeout turns a momentary lock into a short wait instead of an error.
BUSY_TIMEOUT_MS = 30_000


class Checkpoint:
    """Finished objects keyed by key + ETag: a rewritten object (new ETag) is read again."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # A commit in WAL mode with synchronous=NORMAL survives a process crash (not a power loss),
            # which is the failure a resumable backfill is for, at a fraction of the fsync cost.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"checkpoint {self.path}: cannot open: {exc}") from exc

    def finished(self) -> set[tuple[str, str]]:
        """Every (key, etag) already settled."""
        return {(key, etag) for key, etag in self._db.execute("SELECT key, etag FROM finished")}

    def is_finished(self, key: str, etag: str) -> bool:
        """Whether this version of the object is already settled."""
        row = self._db.execute("SELECT 1 FROM finished WHERE key = ? AND etag = ?", (key, etag)).fetchone()
        return row is not None

    def mark_finished(self, key: str, etag: str, records: int) -> None:
        """Record one settled object; committed before returning."""
        self.mark_many([(key, etag, records)])

    def mark_many(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """Record settled objects in one transaction (the pipeline settles several at a flush)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO finished (key, etag, records, finished_at) VALUES (?, ?, ?, ?)",
                [(key, etag, records, now) for key, etag, records in rows])

    def count(self) -> int:
        """Number of settled objects."""
        return int(self._db.execute("SELECT COUNT(*) FROM finished").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()
