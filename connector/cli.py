"""The ``aws-siem-connector`` command line: assembles the commands of ``connector.commands``.

Each command registers its own arguments and runs itself; this module only maps names to them
and turns errors into one line and an exit code. Nothing imports it back.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from connector.commands import EXIT_ERROR, backfill, content, demo, deploy, forward, normalize, replay_dlq
from connector.errors import ConnectorError
from connector.logs import setup_logging

COMMANDS: tuple[ModuleType, ...] = (backfill, forward, deploy, normalize, replay_dlq, content, demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="aws-siem-connector",
        description="Normalize AWS VPC Flow Logs, CloudTrail and Config to ECS with GeoIP and ship them to a SIEM.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(sub.add_parser(command.NAME, help=command.HELP))
    return parser


def _load_secrets(args: argparse.Namespace) -> None:
    """With AWS_SIEM_CONNECTOR_SECRETS_ARN set, the secret's variables join this process's environment."""
    from connector.secrets import SECRETS_ARN_VARIABLE, with_configured_secrets

    if os.environ.get(SECRETS_ARN_VARIABLE):
        os.environ.update(with_configured_secrets(os.environ, getattr(args, "config", None)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; errors become one clear line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    runners = {command.NAME: command.run for command in COMMANDS}
    try:
        _load_secrets(args)
        return int(runners[args.command](args))
    except ConnectorError as exc:
        print(f"aws-siem-connector {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # Output piped into `head`: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
