"""``backfill``: a one-shot historical load from an S3 bucket, or from archives on disk."""

from __future__ import annotations

import argparse
import os
import sys

from connector.commands import exit_code
from connector.commands.options import add_common_options, add_sink_options, chosen_sink, config_from_args, open_sink
from connector.enrich.geoip import tell_database_age
from connector.errors import ConfigError
from connector.formats.detect import TYPES
from connector.run_parts import RunParts
from connector.sinks.factory import PreviewDone
from connector.sources.local import local_units
from connector.transform.build import check_document_stage

NAME = "backfill"
HELP = "one-shot historical load of archived logs (S3 bucket or local files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Local sources or an S3 bucket's date range, the sink and the common options."""
    parser.add_argument("--source", action="append", metavar="PATH",
                        help="local file or directory of downloaded AWS logs (repeatable)")
    parser.add_argument("--type", choices=("auto", *TYPES), default="auto", help="input type (default: detect)")
    add_sink_options(parser, default=None)
    add_common_options(parser)
    group = parser.add_argument_group("S3 backfill (instead of --source)")
    group.add_argument("--bucket", metavar="BUCKET", help="S3 bucket holding the AWSLogs/ tree")
    group.add_argument("--prefix", metavar="PREFIX", help="key prefix before AWSLogs/ (custom trail/flow-log prefix)")
    group.add_argument("--start", metavar="YYYY-MM-DD", help="first day to load (UTC, inclusive)")
    group.add_argument("--end", metavar="YYYY-MM-DD", help="last day to load (UTC, inclusive)")
    group.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    group.add_argument("--region", action="append", metavar="REGION", help="only this region (repeatable)")
    group.add_argument("--checkpoint", metavar="PATH",
                       help="SQLite file of finished objects "
                            "(default: backfill.checkpoint or ./backfill-BUCKET.sqlite)")
    group.add_argument("--workers", type=int, metavar="N",
                       help="worker processes (default: backfill.workers or 1)")
    group.add_argument("--no-progress", action="store_true",
                       help="no live display: progress as log lines, summary as plain text")
    group.add_argument("--enqueue", metavar="QUEUE_URL",
                       help="put the objects on this SQS queue as S3 notifications for `forward` workers")
    group.add_argument("--role-arn", metavar="ARN", help="assume this role (STS, refreshed) to read the bucket")
    group.add_argument("--external-id", metavar="ID", help="external id for --role-arn")


def run(args: argparse.Namespace) -> int:
    """An S3 bucket (``--bucket``) or local files (``--source``) into the sink."""
    if args.bucket or (not args.source and args.enqueue):
        if args.source:
            raise ConfigError("choose --source PATH or --bucket BUCKET, not both")
        from connector.backfill import run_s3_backfill

        config = config_from_args(args)
        tell_database_age(config.geoip, os.environ)  # here, once, before the worker processes start
        check_document_stage(config)
        return run_s3_backfill(args, config)
    if not args.source:
        raise ConfigError("backfill needs --source PATH or --bucket BUCKET")
    config = config_from_args(args)
    sink = open_sink(chosen_sink(args, config), args, config)
    parts = RunParts.open(config, sink)
    try:
        summary = parts.pipeline().run(local_units(args.source, None if args.type == "auto" else args.type))
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0
    finally:
        parts.close()
    for line in summary.lines():
        print(line, file=sys.stderr)
    return exit_code(summary.dead_lettered)
