"""The one typed settings object of an S3 backfill run, merged from the command line and the
``backfill``, ``aws``, ``sink`` and ``file`` configuration sections, with errors naming the flag or key."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.backfill.plan import BackfillScope
from connector.config import AppConfig
from connector.errors import ConfigError
from connector.formats.detect import TYPES
from connector.sinks.factory import SINK_KINDS
from connector.sources.s3 import check_aws_settings

DEFAULT_WORKERS = 1


@dataclass(frozen=True, slots=True)
class BackfillSettings:
    """Everything an S3 backfill run needs, validated once from the command line and configuration."""

    scope: BackfillScope
    aws: Mapping[str, Any]  # the `aws` section with the role flags over it
    checkpoint: str
    workers: int
    progress: bool
    enqueue: str | None
    sink_kind: str | None
    out: str
    dry_run: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace, config: AppConfig) -> BackfillSettings:
        """Merge flags over the ``backfill`` and ``aws`` sections; errors name the flag or key."""
        section = config.section("backfill")
        where = config.source_file
        unknown = sorted(set(section) - {"bucket", "prefix", "checkpoint", "workers"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join('backfill.' + k for k in unknown)}; "
                              "known: bucket, checkpoint, prefix, workers")
        bucket = args.bucket or section.get("bucket")
        if not bucket:
            raise ConfigError("no bucket: pass --bucket or set backfill.bucket")
        if not args.start or not args.end:
            raise ConfigError("an S3 backfill needs --start and --end (YYYY-MM-DD, inclusive)")
        start, end = _date(args.start, "--start"), _date(args.end, "--end")
        if end < start:
            raise ConfigError(f"--end {args.end} is before --start {args.start}")
        kind = getattr(args, "type", "auto")
        scope = BackfillScope(
            bucket=str(bucket), start=start, end=end, prefix=str(args.prefix or section.get("prefix") or ""),
            accounts=frozenset(args.account or ()), regions=frozenset(args.region or ()),
            types=frozenset(TYPES if kind in (None, "auto") else (kind,)))
        workers_raw = args.workers if args.workers is not None else section.get("workers", DEFAULT_WORKERS)
        try:
            workers = int(workers_raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: backfill.workers must be an integer, got {workers_raw!r}") from None
        if workers < 1:
            raise ConfigError("--workers must be at least 1")
        access = config.section("aws")
        if args.role_arn:
            access["role_arn"] = args.role_arn
        if args.external_id:
            access["external_id"] = args.external_id
        check_aws_settings(access, where)
        checkpoint = args.checkpoint or section.get("checkpoint") or f"backfill-{bucket}.sqlite"
        sink_kind = getattr(args, "sink", None) or config.section("sink").get("type")
        if not args.enqueue:
            if not sink_kind:
                raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
            if sink_kind not in SINK_KINDS:
                raise ConfigError(f"{where}: sink.type {sink_kind!r} is not one of {', '.join(SINK_KINDS)}")
        out = getattr(args, "out", None) or config.section("file").get("out") or "out"
        return cls(scope=scope, aws=access, checkpoint=str(checkpoint), workers=workers,
                   progress=not args.no_progress, enqueue=args.enqueue, sink_kind=sink_kind, out=str(out),
                   dry_run=bool(getattr(args, "dry_run", False)))


def _date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None
