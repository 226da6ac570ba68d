"""``forward``: the ingestion service, draining SQS queues or polling CloudWatch Logs groups."""

from __future__ import annotations

import argparse
import os

from connector.commands.options import add_common_options, add_sink_options, chosen_sink, config_from_args
from connector.enrich.geoip import tell_database_age
from connector.errors import ConfigError
from connector.transform.build import check_document_stage

NAME = "forward"
HELP = ("service: drain SQS queues (S3, Config, CloudWatch Logs notifications) or poll CloudWatch Logs groups "
        "into a sink")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Queues or log groups, the service's limits, the sink and the common options."""
    parser.add_argument("--queue-url", action="append", metavar="URL",
                        help="SQS queue to drain (repeatable; or forward.queue_urls)")
    add_sink_options(parser, default=None)
    parser.add_argument("--max-in-flight", type=int, metavar="N", help="messages in work at once (default: 4)")
    parser.add_argument("--workers", type=int, metavar="N", help="parsing processes (default: CPU count)")
    parser.add_argument("--visibility-timeout", type=int, metavar="S",
                        help="seconds a message stays hidden; renewed every S/3 while in work (default: 300)")
    parser.add_argument("--metrics-port", type=int, metavar="P", help="serve /healthz and /metrics on this port")
    parser.add_argument("--max-messages", type=int, metavar="N", help="stop after N messages (one-shot drains)")
    parser.add_argument("--idle-exit", type=float, metavar="S", help="exit 0 after S seconds with an empty queue")
    add_common_options(parser)
    parser.add_argument("--log-group", action="append", metavar="NAME",
                        help="poll this CloudWatch Logs group with FilterLogEvents (repeatable)")
    parser.add_argument("--max-pages", type=int, metavar="N", help="log groups: stop after N settled pages")


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM (or the one-shot limits); returns the exit code."""
    config = config_from_args(args)
    tell_database_age(config.geoip, os.environ)  # here, once, before the worker processes start
    check_document_stage(config)
    if args.log_group:
        from connector.sources.cloudwatch import run_log_groups

        return run_log_groups(args.log_group, args, config)
    if args.dry_run:
        raise ConfigError("forward does not support --dry-run (use normalize or backfill --dry-run to preview)")
    kind = chosen_sink(args, config)
    from connector.forward import ForwardService, ForwardSettings

    settings = ForwardSettings.from_sources(config.section("forward"), args, config.source_file)
    return ForwardService(settings, config, kind, os.environ).run()
