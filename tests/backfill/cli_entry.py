"""``python -m tests.backfill.cli_entry backfill ...``: the console command with the S3 backfill flags.

When ``connector.cli`` already offers ``backfill --bucket`` this is exactly ``connector.cli.main``;
otherwise it adds the flags the same way the command does, so the tests run the real command path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from connector import cli
from connector.backfill import add_s3_backfill_arguments, run_s3_backfill


def _backfill_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["backfill"]  # type: ignore[no-any-return]
    raise LookupError("no backfill command")


def _wired() -> bool:
    return "--bucket" in _backfill_parser(cli.build_parser())._option_string_actions


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line, adding the S3 backfill flags if the command does not have them yet."""
    if not _wired():
        original_build, original_cmd = cli.build_parser, cli.COMMANDS["backfill"]

        def build_parser() -> argparse.ArgumentParser:
            parser = original_build()
            back = _backfill_parser(parser)
            back._option_string_actions["--source"].required = False
            add_s3_backfill_arguments(back)
            return parser

        def cmd_backfill(args: argparse.Namespace) -> int:
            if args.bucket:
                return run_s3_backfill(args, cli.config_from_args(args))
            return original_cmd(args)

        cli.build_parser = build_parser  # type: ignore[assignment]
        cli.COMMANDS["backfill"] = cmd_backfill
    return cli.main(argv)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parsed ``backfill`` arguments, for tests that call ``run_s3_backfill`` in-process."""
    parser = cli.build_parser()
    back = _backfill_parser(parser)
    if "--bucket" not in back._option_string_actions:
        back._option_string_actions["--source"].required = False
        add_s3_backfill_arguments(back)
    return parser.parse_args(["backfill", *argv])


if __name__ == "__main__":
    sys.exit(main())
