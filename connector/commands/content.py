"""``content sigma``: detection content for the SIEM, Sigma rules as its queries."""

from __future__ import annotations

import argparse
import sys

from connector.commands import exit_code
from connector.detections import BACKENDS
from connector.errors import ConfigError

NAME = "content"
HELP = "detection content for the SIEM: Sigma rules as its queries"
FORMATS = ("text", "ndjson", "savedsearches")


def _content_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the same flags stand on `content` and on `content sigma`, so the sub-command's
    # defaults must not overwrite what was given before it (`content --backend splunk sigma`).
    parser.add_argument("--backend", choices=BACKENDS, default=argparse.SUPPRESS,
                        help="query language (default: lucene, for Kibana and OpenSearch Dashboards)")
    parser.add_argument("--format", choices=FORMATS, default=argparse.SUPPRESS, dest="output_format",
                        help="savedsearches: Splunk alerts (savedsearches.conf), with --backend splunk")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``content sigma [options] [RULE...]``; options go before or after the rule paths."""
    _content_options(parser)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    sigma = kinds.add_parser("sigma", help="convert Sigma rules (default: the bundled ones) into queries")
    sigma.add_argument("rules", nargs="*", metavar="RULE",
                       help="Sigma rule files or folders (default: the bundled rules)")
    _content_options(sigma)


def run(args: argparse.Namespace) -> int:
    """Print each rule converted for the chosen backend; one stderr line per refused rule, exit 1 then."""
    import orjson

    from connector.detections import convert, splunk_saved_searches

    backend = getattr(args, "backend", "lucene")
    output_format = getattr(args, "output_format", "text")
    if output_format == "savedsearches" and backend != "splunk":
        raise ConfigError("--format savedsearches needs --backend splunk")
    conversion = convert(backend, args.rules)
    if not conversion.detections and not conversion.refused:
        raise ConfigError(f"no Sigma rule (*.yml) in {', '.join(args.rules)}")
    if output_format == "savedsearches":
        sys.stdout.write(splunk_saved_searches(conversion.detections))
    elif output_format == "ndjson":
        for detection in conversion.detections:
            entry = {"id": detection.rule_id, "title": detection.title, "level": detection.level,
                     "backend": backend, "query": detection.query}
            sys.stdout.write(orjson.dumps(entry).decode() + "\n")
    else:
        for detection in conversion.detections:
            sys.stdout.write(f"# {detection.title} ({detection.level}, {detection.rule_id})\n{detection.query}\n\n")
    sys.stdout.flush()
    for refusal in conversion.refused:
        print(refusal.line(), file=sys.stderr)
    return exit_code(len(conversion.refused))
