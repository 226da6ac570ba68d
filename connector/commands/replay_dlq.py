"""``replay-dlq``: send a dead-letter file's documents again once the cause is fixed."""

from __future__ import annotations

import argparse
import os
import sys

from connector.commands import exit_code
from connector.commands.options import add_sink_options, add_verbose_option, chosen_sink, config_from_args, open_sink
from connector.errors import ConfigError
from connector.sinks.factory import PreviewDone

NAME = "replay-dlq"
HELP = "send the documents of a dead-letter file again, once the cause of the refusals is fixed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dead letters to read, the sink, and where what stays dead goes."""
    parser.add_argument("path", metavar="DLQ_FILE",
                        help="a dead-letter file (NDJSON) written by --dlq, or an s3://BUCKET/PREFIX of them")
    add_sink_options(parser, default=None)
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    parser.add_argument("--dlq", metavar="PATH",
                        help="where what stays dead is written (default: DLQ_FILE's name + .remaining-TIME.ndjson)")
    add_verbose_option(parser)


def _check_target(source: str, target: str) -> None:
    """What stays dead must never overwrite, or land inside, what is being read."""
    from_s3 = source.startswith("s3://")
    local_target = not target.startswith("s3://")
    if target == source or (
        local_target and not from_s3 and os.path.exists(target) and os.path.samefile(target, source)
    ):
        raise ConfigError(f"--dlq {target} is the file being replayed; write what stays dead to another file")
    if not local_target and from_s3 and target.rstrip("/").startswith(source.rstrip("/") + "/"):
        raise ConfigError(f"--dlq {target} is under the prefix being replayed; write what stays dead elsewhere")


def run(args: argparse.Namespace) -> int:
    """Replay; one summary line on stderr; exit 1 when something stays dead."""
    from connector.dlq import DeadLetterStore
    from connector.replay import remaining_path_for, replay

    config = config_from_args(args)
    kind = chosen_sink(args, config)
    if not args.path.startswith("s3://") and not os.path.isfile(args.path):
        raise ConfigError(f"no dead-letter file at {args.path}")
    target = args.dlq or remaining_path_for(args.path)
    _check_target(args.path, target)
    local_target = not target.startswith("s3://")
    existed = not local_target or os.path.exists(target)
    sink = open_sink(kind, args, config)
    store = DeadLetterStore(target)
    try:
        summary = replay(args.path, sink, store, config.pipeline.batch_docs)
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0
    finally:
        try:
            sink.close()
        finally:
            store.close()
            if not existed and os.path.getsize(target) == 0:
                os.remove(target)
    print(summary.line(target), file=sys.stderr)
    return exit_code(summary.remaining)
