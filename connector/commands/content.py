"""``content sigma``: detection content for the SIEM, Sigma rules as its queries."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from connector.commands import exit_code
from connector.detections import BACKENDS
from connector.errors import ConfigError

NAME = "content"
HELP = "SIEM content: Sigma rules as queries; the dashboards, searches, rules and monitors under deploy/"
FORMATS = ("text", "ndjson", "savedsearches", "macros")


def _content_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the same flags stand on `content` and on `content sigma`, so the sub-command's
    # defaults must not overwrite what was given before it (`content --backend splunk sigma`).
    parser.add_argument("--backend", choices=BACKENDS, default=argparse.SUPPRESS,
                        help="query language (default: lucene, for Kibana and OpenSearch Dashboards)")
    parser.add_argument("--format", choices=FORMATS, default=argparse.SUPPRESS, dest="output_format",
                        help="savedsearches / macros: the Splunk app's savedsearches.conf / macros.conf, "
                             "with --backend splunk")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``content sigma [options] [RULE...]``; options go before or after the rule paths."""
    _content_options(parser)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    sigma = kinds.add_parser("sigma", help="convert Sigma rules (default: the bundled ones) into queries")
    sigma.add_argument("rules", nargs="*", metavar="RULE",
                       help="Sigma rule files or folders (default: the bundled rules)")
    _content_options(sigma)
    build = kinds.add_parser("build", help="generate the Kibana, Elastic Security, OpenSearch Dashboards and "
                                           "OpenSearch Alerting files from the dashboards and detections")
    build.add_argument("--out", metavar="DIR", default="deploy",
                       help="the deploy folder to write into (default: ./deploy)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 and name each file that differs from what would be written")


def run(args: argparse.Namespace) -> int:
    """``content sigma`` or ``content build``."""
    return _build(args) if args.kind == "build" else _sigma(args)


def _build(args: argparse.Namespace) -> int:
    """Write (or with --check, compare) every generated content file; one line per file."""
    from pathlib import Path

    from connector.content.build import stale, write

    out = Path(args.out)
    if args.check:
        problems = stale(out)
        for path in problems:
            print(f"{out / path}: stale (aws-siem-connector content build writes it anew)", file=sys.stderr)
        return exit_code(len(problems))
    for path in write(out):
        print(f"wrote {out / path}")
    return 0


def _sigma(args: argparse.Namespace) -> int:
    """Print each rule converted for the chosen backend; one stderr line per refused rule, exit 1 then."""
    import orjson

    from connector.detections import convert, handwritten, splunk_saved_searches

    backend = getattr(args, "backend", "lucene")
    output_format = getattr(args, "output_format", "text")
    if output_format in ("savedsearches", "macros") and backend != "splunk":
        raise ConfigError(f"--format {output_format} needs --backend splunk")
    if output_format == "macros":
        sys.stdout.write(_macros(args.rules))
        return 0
    conversion = convert(backend, args.rules)
    if not conversion.detections and not conversion.refused:
        raise ConfigError(f"no Sigma rule (*.yml) in {', '.join(args.rules)}")
    if output_format == "savedsearches":
        # The app's alerts: the rules, and with the bundled rules the hand-written detections too.
        sys.stdout.write(splunk_saved_searches(conversion.detections, () if args.rules else handwritten()))
    elif output_format == "ndjson":
        for detection in conversion.detections:
            entry: dict[str, object] = {"id": detection.rule_id, "title": detection.title, "level": detection.level,
                                        "backend": backend, "dataset": detection.dataset,
                                        "tags": list(detection.tags), "query": detection.query}
            if detection.threshold is not None:
                entry["threshold"] = dataclasses.asdict(detection.threshold)
            sys.stdout.write(orjson.dumps(entry).decode() + "\n")
    else:
        for detection in conversion.detections:
            head = f"# {detection.title} ({detection.level}, {detection.rule_id})\n"
            if detection.threshold is not None:
                head += f"# alert when {detection.threshold.text()}, over the events of this query:\n"
            sys.stdout.write(f"{head}{detection.query}\n\n")
    sys.stdout.flush()
    for refusal in conversion.refused:
        print(refusal.line(), file=sys.stderr)
    return exit_code(len(conversion.refused))


def _macros(rules: list[str]) -> str:
    from pathlib import Path

    from connector.detections import bundled_rules_dir, splunk_macros
    from connector.detections.pipeline import allow_list_fields, allow_lists

    fields: dict[str, str] = {}
    for folder in [Path(r) for r in rules] or [bundled_rules_dir()]:
        fields.update(allow_list_fields(folder if folder.is_dir() else folder.parent))
    lists = {name: values for name, values in allow_lists().items() if name in fields}
    return splunk_macros(lists, fields)
