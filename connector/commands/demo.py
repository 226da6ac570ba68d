"""``demo``: the main job end to end on the embedded default data."""

from __future__ import annotations

import argparse
import sys

from connector.commands.options import add_common_options, add_sink_options, chosen_sink, config_from_args, open_sink
from connector.sinks.factory import PreviewDone

NAME = "demo"
HELP = "generate a day of a small AWS estate, normalize it, summarize"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The generator's seed, the sink (NDJSON files by default) and the common options."""
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default: 7)")
    add_sink_options(parser, default="file")
    add_common_options(parser)


def run(args: argparse.Namespace) -> int:
    """Generate the demo estate, normalize it into a sink (./out by default), print the summary."""
    from connector.demo.run import run_demo

    config = config_from_args(args)
    kind = chosen_sink(args, config)
    if args.out is None:
        args.out = str(config.section("file").get("out") or "out")
    sink = None if kind == "file" and not args.dry_run else open_sink(kind, args, config)
    try:
        return run_demo(args, config, sink)
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0
