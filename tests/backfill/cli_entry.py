"""Parsed ``backfill`` arguments from the real command line, for tests that run a backfill in-process."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connector.cli import build_parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """``aws-siem-connector backfill ARGV`` as the console command parses it."""
    return build_parser().parse_args(["backfill", *argv])
