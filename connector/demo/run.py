"""The ``demo`` command: the main job end to end on the embedded default data."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console

from connector.config import AppConfig
from connector.demo.estate import generate_estate
from connector.demo.summary import DemoFindings, FindingsSink, render_skips
from connector.enrich.geoip import EMBEDDED_CITY_DB, embedded_database_line
from connector.run_parts import RunParts
from connector.sinks.base import Sink
from connector.sinks.file import FileSink
from connector.sources.local import local_units


def run_demo(args: argparse.Namespace, config: AppConfig, sink: Sink | None = None) -> int:
    """Generate a day of the demo estate under ``<out>/estate``, normalize it with GeoIP, send it
    to ``sink`` (default: NDJSON files under ``<out>``) and print what a SOC would look at."""
    out = Path(args.out)
    estate = out / "estate"
    if estate.exists():
        shutil.rmtree(estate)
    console = Console(stderr=False)
    started = time.perf_counter()
    manifest = generate_estate(estate, seed=args.seed)
    console.print(f"generated {len(manifest.keys)} objects of a small AWS estate under {estate}")
    target: Sink
    if sink is None:
        file_sink = FileSink(out, truncate=True)
        target = file_sink
        where = f"NDJSON under {out}/"
    else:
        target = sink
        where = type(sink).__name__
    findings = DemoFindings()
    counting = FindingsSink(target, findings)
    parts = RunParts.open(config, counting, config.dlq_path or str(out / "dead-letters.ndjson"))
    try:
        summary = parts.pipeline().run(local_units([str(estate)]))
    finally:
        parts.close()
    elapsed = time.perf_counter() - started
    findings.render(console)
    render_skips(summary.skipped_by_rule, console)
    console.print(f"wrote {summary.written:,} documents to {where} in {elapsed:.1f}s")
    if config.geoip.city_db == EMBEDDED_CITY_DB:
        console.print(embedded_database_line(), markup=False, highlight=False)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0 if summary.dead_lettered == 0 else 1
