"""CloudWatch Logs groups polled with ``FilterLogEvents``, with a durable position per group.

The position is the timestamp of the last settled event plus the ids of the settled events at
exactly that timestamp (several events can share a millisecond). The next read starts at that
timestamp and skips those ids: no gap, no re-read. It advances only after the pipeline reports
every record of a page settled, so a crash re-reads at most the unsettled page.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from connector.config import AppConfig
from connector.errors import ConfigError, SourceError
from connector.pipeline import Pipeline
from connector.run_parts import RunParts
from connector.sinks.base import Sink
from connector.sinks.factory import SINK_KINDS, DryRunSink, PreviewDone, build_sink
from connector.sources.base import WorkUnit
from connector.sources.cloudwatch_payload import events_unit

log = logging.getLogger(__name__)
SETTINGS_KEYS = {"state_path", "poll_seconds", "start", "delay_seconds", "page_size"}


@dataclass(frozen=True, slots=True)
class CloudWatchSettings:
    """The ``cloudwatch`` section: where positions live and how often and how far to read."""

    state_path: str = "./cloudwatch-state.sqlite"
    poll_seconds: float = 10.0
    start: str = "now"  # for a group with no position yet: now, beginning, or an ISO 8601 time
    # Events are read once they are this old: CloudWatch Logs can receive an event minutes after
    # its timestamp (flow logs are published per aggregation interval of up to 10 minutes), and a
    # position past it would never look back. Ten minutes by default: late, not lost.
    delay_seconds: float = 600.0
    page_size: int | None = None  # FilterLogEvents limit; AWS's default (up to 10,000) when unset

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str) -> CloudWatchSettings:
        """Validate the raw section; errors name the key and the file."""
        unknown = sorted(set(section) - SETTINGS_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join('cloudwatch.' + k for k in unknown)}; "
                              f"known: {', '.join(sorted(SETTINGS_KEYS))}")
        values: dict[str, Any] = {}
        for key, convert in (("poll_seconds", float), ("delay_seconds", float), ("page_size", int)):
            if section.get(key) not in (None, ""):
                try:
                    values[key] = convert(section[key])
                except (TypeError, ValueError):
                    raise ConfigError(f"{where}: cloudwatch.{key} must be a number, got {section[key]!r}") from None
                if values[key] < 0 or (key == "page_size" and not 1 <= values[key] <= 10000):
                    raise ConfigError(f"{where}: cloudwatch.{key} is out of range: {section[key]!r}")
        if section.get("state_path"):
            values["state_path"] = str(section["state_path"])
        if section.get("start"):
            values["start"] = str(section["start"])
            start_millis(values["start"], 0)  # fail at start, not at the first new group
        return cls(**values)


def start_millis(start: str, now_ms: int) -> int:
    """The first timestamp to read of a group never seen before."""
    if start == "now":
        return now_ms
    if start == "beginning":
        return 0
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        raise ConfigError(f"cloudwatch.start must be now, beginning or an ISO 8601 time, got {start!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a group's reading resumes: the last settled timestamp and the ids settled at it."""

    timestamp: int
    ids: frozenset[str] = frozenset()

    def seen(self, event: Mapping[str, Any]) -> bool:
        """True when ``event`` is at or before this position (already settled)."""
        ts = int(event["timestamp"])
        return ts < self.timestamp or (ts == self.timestamp and str(event["eventId"]) in self.ids)

    def after(self, events: list[dict[str, Any]]) -> Position:
        """The position once ``events`` (in timestamp order) are settled too."""
        if not events:
            return self
        last = max(int(e["timestamp"]) for e in events)
        if last < self.timestamp:
            return self
        at_last = frozenset(str(e["eventId"]) for e in events if int(e["timestamp"]) == last)
        return Position(last, self.ids | at_last if last == self.timestamp else at_last)


class PositionStore:
    """Positions of log groups in a small SQLite file; each save is one committed transaction."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS positions (log_group TEXT PRIMARY KEY, "
                         "timestamp INTEGER NOT NULL, ids TEXT NOT NULL, updated TEXT NOT NULL)")

    def get(self, group: str) -> Position | None:
        """The saved position of ``group``, if any."""
        row = self._db.execute("SELECT timestamp, ids FROM positions WHERE log_group = ?", (group,)).fetchone()
        if row is None:
            return None
        return Position(int(row[0]), frozenset(filter(None, str(row[1]).split("\n"))))

    def save(self, group: str, position: Position) -> None:
        """Persist ``position`` durably before returning."""
        self._db.execute(
            "INSERT INTO positions (log_group, timestamp, ids, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(log_group) DO UPDATE SET timestamp = excluded.timestamp, ids = excluded.ids, "
            "updated = excluded.updated",
            (group, position.timestamp, "\n".join(sorted(position.ids)), datetime.now(UTC).isoformat()))

    def close(self) -> None:
        """Close the database."""
        self._db.close()


@dataclass
class _PageCommit:
    group: str
    position: Position
    remaining: int


@dataclass
class PollStats:
    """What a polling run did, for its closing line and for tests."""

    pages: int = 0
    events: int = 0
    by_group: dict[str, int] = field(default_factory=dict)


class LogGroupPoller:
    """Reads new events of log groups page by page into a pipeline, advancing positions as pages settle."""

    def __init__(self, client: Any, pipeline_factory: Callable[[Callable[[WorkUnit], None]], Pipeline],
                 store: PositionStore, settings: CloudWatchSettings,
                 log_group_formats: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._store = store
        self._settings = settings
        self._formats = log_group_formats or {}
        self._clock = clock
        self._waiting: dict[int, _PageCommit] = {}
        self.pipeline = pipeline_factory(self._settled)
        self.stats = PollStats()
        self.stop = threading.Event()

    def _settled(self, unit: WorkUnit) -> None:
        commit = self._waiting.pop(id(unit), None)
        if commit is None:
            return
        commit.remaining -= 1
        if commit.remaining == 0:
            self._store.save(commit.group, commit.position)

    def position(self, group: str) -> Position:
        """The group's saved position; a group seen for the first time starts at ``cloudwatch.start``,
        saved at once so that a restart before its first event leaves no gap."""
        saved = self._store.get(group)
        if saved is None:
            saved = Position(start_millis(self._settings.start, int(self._clock() * 1000)))
            self._store.save(group, saved)
        return saved

    def check_exists(self, group: str) -> None:
        """Fail at start for a group that is not there: with the read delay, the first poll may not
        call AWS for a while, and a typo must not look like a quiet group."""
        try:
            found = self._client.describe_log_groups(logGroupNamePrefix=group, limit=50).get("logGroups", [])
        except self._client.exceptions.ResourceNotFoundException:
            found = []
        if not any(g.get("logGroupName") == group for g in found):
            raise SourceError(f"CloudWatch Logs group {group!r} does not exist (or is not visible "
                              f"to these credentials)")

    def poll_group(self, group: str, max_pages: int | None = None) -> int:
        """Read every page of ``group`` past its position; returns the pages that carried new events."""
        position = self.position(group)
        end = int((self._clock() - self._settings.delay_seconds) * 1000)
        if end < position.timestamp:
            return 0
        # AWS always interleaves streams in timestamp order now; moto and older emulators need asking.
        request: dict[str, Any] = {"logGroupName": group, "startTime": position.timestamp, "endTime": end,
                                   "interleaved": True}
        if self._settings.page_size:
            request["limit"] = self._settings.page_size
        pages = 0
        # Within one pass the token guarantees no repeats, so freshness is judged against where the
        # pass started: an event a page returns out of timestamp order is still delivered.
        started = position
        while not self.stop.is_set() and (max_pages is None or pages < max_pages):
            try:
                response = self._client.filter_log_events(**request)
            except self._client.exceptions.ResourceNotFoundException:
                raise SourceError(f"CloudWatch Logs group {group!r} does not exist (or is not visible "
                                  f"to these credentials)") from None
            events: list[dict[str, Any]] = response.get("events", [])
            fresh = [e for e in events if not started.seen(e)]
            after = position.after(events)
            if fresh:
                self._deliver(group, fresh, after)
                pages += 1
            elif after != position:
                self._store.save(group, after)
            position = after
            token = response.get("nextToken")
            if not token:
                break
            request["nextToken"] = token
        return pages

    def _deliver(self, group: str, events: list[dict[str, Any]], after: Position) -> None:
        by_stream: dict[str, list[tuple[str, str]]] = {}
        for event in events:
            by_stream.setdefault(str(event.get("logStreamName", "")), []).append(
                (str(event["eventId"]), str(event.get("message", ""))))
        units = [events_unit(group, stream, pairs, self._formats) for stream, pairs in by_stream.items()]
        commit = _PageCommit(group, after, len(units))
        for unit in units:
            self._waiting[id(unit)] = commit
        for unit in units:
            self.pipeline.process_unit(unit)
        self.pipeline.flush()
        if commit.remaining:
            raise RuntimeError(f"{group}: page not settled after a flush; position not advanced")
        self.stats.pages += 1
        self.stats.events += len(events)
        self.stats.by_group[group] = self.stats.by_group.get(group, 0) + len(events)

    def run(self, groups: list[str], idle_exit: float | None = None, max_pages: int | None = None) -> PollStats:
        """Poll ``groups`` until stopped, idle for ``idle_exit`` seconds, or ``max_pages`` pages are settled."""
        for group in groups:
            self.check_exists(group)
        last_activity = time.monotonic()
        while not self.stop.is_set():
            got = 0
            for group in groups:
                left = None if max_pages is None else max_pages - self.stats.pages
                got += self.poll_group(group, left)
                if self.stop.is_set() or (max_pages is not None and self.stats.pages >= max_pages):
                    return self.stats
            now = time.monotonic()
            if got:
                last_activity = now
            elif idle_exit is not None and now - last_activity >= idle_exit:
                break
            self.stop.wait(self._settings.poll_seconds)
        return self.stats


def logs_client(config: AppConfig) -> Any:
    """A CloudWatch Logs client from the ``aws`` section (region, role, endpoint) with standard retries."""
    from connector.sources.s3 import aws_client, aws_session

    aws = config.section("aws")
    return aws_client(aws_session(aws), "logs", aws)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    # Signals only reach the main thread; elsewhere (tests, embedding) the caller stops us.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: settling the current page, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _sink_for(args: argparse.Namespace, config: AppConfig) -> Sink:
    kind = getattr(args, "sink", None) or config.section("sink").get("type")
    if not kind:
        raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
    if kind not in SINK_KINDS:
        raise ConfigError(f"{config.source_file}: sink.type {kind!r} is not one of {', '.join(SINK_KINDS)}")
    dry_run = bool(getattr(args, "dry_run", False))
    sink = build_sink(str(kind), config, os.environ, check=not dry_run)
    return DryRunSink(sink) if dry_run else sink


def run_log_groups(groups: list[str], args: argparse.Namespace, config: AppConfig) -> int:
    """``forward --log-group NAME...``: poll the groups into the chosen sink until SIGTERM/SIGINT
    (or ``--idle-exit`` seconds without new events, or ``--max-pages`` settled pages)."""
    if not groups:
        raise ConfigError("no log group given: pass --log-group NAME (repeatable)")
    settings = CloudWatchSettings.from_section(config.section("cloudwatch"), config.source_file)
    sink = _sink_for(args, config)
    parts = RunParts.open(config, sink)
    store = PositionStore(settings.state_path)
    poller = LogGroupPoller(logs_client(config), parts.pipeline, store, settings, config.normalize.log_group_formats)
    log.info("polling %s every %ss (positions in %s)", ", ".join(groups), settings.poll_seconds,
             settings.state_path)
    try:
        with _stop_on_signals(poller.stop):
            poller.run(groups, getattr(args, "idle_exit", None), getattr(args, "max_pages", None))
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0
    finally:
        try:
            poller.pipeline.close()  # no send may still run while the sink closes
            parts.close()
        finally:
            store.close()
    summary = poller.pipeline.summary
    rules = summary.rules_line()
    if rules is not None:
        print(rules, file=sys.stderr)
    print(f"{summary.line()}, {poller.stats.pages} pages from {len(groups)} log group(s)", file=sys.stderr)
    return 0
