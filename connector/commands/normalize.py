"""``normalize``: files or directories in, one ECS document per line on stdout."""

from __future__ import annotations

import argparse
import sys

from connector.commands import exit_code
from connector.commands.options import add_common_options, config_from_args
from connector.formats.detect import TYPES
from connector.run_parts import RunParts
from connector.sinks.stdout import StdoutSink
from connector.sources.local import local_units

NAME = "normalize"
HELP = "normalize files or directories to ECS NDJSON on stdout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Input type, paths and the common options."""
    parser.add_argument("--type", choices=("auto", *TYPES), default="auto", help="input type (default: detect)")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    add_common_options(parser)


def run(args: argparse.Namespace) -> int:
    """Documents on stdout, one summary line on stderr; exit 1 when a record was dead-lettered."""
    config = config_from_args(args)
    parts = RunParts.open(config, StdoutSink())
    try:
        summary = parts.pipeline().run(local_units(args.paths, None if args.type == "auto" else args.type))
    finally:
        parts.close()
    for line in summary.lines():
        print(line, file=sys.stderr)
    return exit_code(summary.dead_lettered)
