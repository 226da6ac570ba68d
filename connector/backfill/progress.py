"""What a backfill shows: live bars (or periodic log lines without a terminal) while it runs, and the
closing summary as a table or ``label: value`` lines."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from connector.backfill.tally import Tally

# The command logs under its package name, whichever module writes the line.
log = logging.getLogger(__package__)

PROGRESS_LOG_SECONDS = 10.0


@dataclass
class BackfillResult:
    """What a run did, for the summary table and the exit status."""

    listed: int = 0
    skipped_objects: int = 0
    done: int = 0
    failed: int = 0
    bytes_read: int = 0
    records: int = 0
    list_calls: int = 0
    elapsed: float = 0.0
    tally: Tally = field(default_factory=Tally)
    interrupted: bool = False
    fatal: str | None = None

    def rows(self) -> list[tuple[str, str]]:
        """The summary as label/value rows (the same for the table and the plain text)."""
        rate = self.records / self.elapsed if self.elapsed > 0 else 0.0
        rows = [
            ("objects listed", str(self.listed)),
            ("objects done", str(self.done)),
            ("objects skipped (already in checkpoint)", str(self.skipped_objects)),
            ("objects failed", str(self.failed)),
        ]
        for dataset in self.tally.datasets():
            rows.append((f"{dataset} records written", str(self.tally.written[dataset])))
            rows.append((f"{dataset} records skipped", str(self.tally.skipped[dataset])))
            rows.append((f"{dataset} records dead-lettered", str(self.tally.dead_lettered[dataset])))
        for rule, count in sorted(self.tally.skipped_by_rule.items()):
            rows.append((f"skipped by rule {rule}", str(count)))
        rows += [
            ("bytes read", f"{self.bytes_read} ({human_bytes(self.bytes_read)})"),
            ("elapsed", f"{self.elapsed:.1f} s"),
            ("records/s", f"{rate:.0f}"),
        ]
        return rows


def human_bytes(n: float) -> str:
    """``n`` bytes in decimal units (``1.5 MB``), for people reading the summary and the log."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} TB"


def render_summary(result: BackfillResult, console: Console, plain: bool) -> None:
    """The closing summary: a table on a terminal, ``label: value`` lines for unattended runs."""
    title = "backfill interrupted (re-run to resume)" if result.interrupted else "backfill summary"
    if plain:
        console.print(title, markup=False, highlight=False, soft_wrap=True)
        for label, value in result.rows():
            console.print(f"{label}: {value}", markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=title)
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    for label, value in result.rows():
        table.add_row(label, value)
    console.print(table)


class ProgressView:
    """Live bars (objects, bytes, records/s, ETA, errors) or, without a terminal, a periodic log line."""

    def __init__(self, console: Console, live: bool, objects: int, total_bytes: int) -> None:
        self._objects = objects
        self._total_bytes = total_bytes
        self._live = live
        self._start = time.monotonic()
        self._last_log = self._start
        self._progress: Progress | None = None
        if live:
            self._progress = Progress(
                TextColumn("[bold]backfill"), BarColumn(), TaskProgressColumn(),
                TextColumn("{task.fields[objects]} objects"), DownloadColumn(),
                TextColumn("{task.fields[rate]} records/s"), TextColumn("errors {task.fields[errors]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                transient=False)
            self._task = self._progress.add_task("backfill", total=max(total_bytes, 1),
                                                 objects=f"0/{objects}", rate="0", errors=0)

    def __enter__(self) -> ProgressView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, result: BackfillResult, finished_objects: int) -> None:
        """Show the counts so far."""
        elapsed = time.monotonic() - self._start
        rate = result.records / elapsed if elapsed > 0 else 0.0
        if self._progress is not None:
            self._progress.update(self._task, completed=result.bytes_read,
                                  objects=f"{finished_objects}/{self._objects}", rate=f"{rate:,.0f}",
                                  errors=result.failed + sum(result.tally.dead_lettered.values()))
        elif time.monotonic() - self._last_log >= PROGRESS_LOG_SECONDS:
            self._last_log = time.monotonic()
            log.info("progress: %d/%d objects, %s of %s, %.0f records/s, %d failed", finished_objects,
                     self._objects, human_bytes(result.bytes_read), human_bytes(self._total_bytes), rate,
                     result.failed)
