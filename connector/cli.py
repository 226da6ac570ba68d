"""The ``aws-siem-connector`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from connector.backfill import add_s3_backfill_arguments, run_s3_backfill
from connector.config import AppConfig, load_config
from connector.errors import ConfigError, ConnectorError
from connector.formats.detect import TYPES
from connector.forward import add_forward_arguments, run_forward
from connector.logs import setup_logging
from connector.run_parts import RunParts
from connector.sinks.base import Sink
from connector.sinks.factory import SINK_KINDS, DryRunSink, PreviewDone, build_sink
from connector.sinks.stdout import StdoutSink
from connector.sources.local import local_units

log = logging.getLogger("connector")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    parser.add_argument("--geoip-city", metavar="MMDB", help="GeoIP2/GeoLite2 City database (default: embedded)")
    parser.add_argument("--geoip-asn", metavar="MMDB", help="GeoIP2/GeoLite2 ASN database (adds source.as.*)")
    parser.add_argument("--original", action="store_true", default=None,
                        help="keep the source record in event.original")
    parser.add_argument("--drop-nodata", action="store_true", default=None,
                        help="leave out flow records without data (NODATA/SKIPDATA)")
    parser.add_argument("--vpcflow-format", metavar="FORMAT",
                        help="custom format of flow-log lines that come without a header")
    parser.add_argument("--dlq", metavar="PATH", help="dead-letter file (NDJSON); default: stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _sink_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument("--sink", choices=SINK_KINDS, default=default,
                        help="where documents go" + (f" (default: {default})" if default else ""))
    parser.add_argument("--out", metavar="DIR", help="file sink: directory of the NDJSON files (default: ./out)")
    parser.add_argument("--hec-url", metavar="URL", help="splunk sink: HEC base URL (token from SPLUNK_HEC_TOKEN)")
    parser.add_argument("--es-url", metavar="URL", help="elasticsearch sink: cluster URL")
    parser.add_argument("--opensearch-url", metavar="URL", help="opensearch sink: cluster URL")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the first batch as it would be sent (secrets masked) and send nothing")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="aws-siem-connector",
        description="Normalize AWS VPC Flow Logs, CloudTrail and Config to ECS with GeoIP and ship them to a SIEM.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    back = sub.add_parser("backfill", help="one-shot historical load of archived logs (S3 bucket or local files)")
    back.add_argument("--source", action="append", metavar="PATH",
                      help="local file or directory of downloaded AWS logs (repeatable)")
    back.add_argument("--type", choices=("auto", *TYPES), default="auto", help="input type (default: detect)")
    _sink_options(back, default=None)
    _common(back)
    add_s3_backfill_arguments(back)

    fwd = sub.add_parser("forward", help="service: drain SQS queues (S3, Config, CloudWatch Logs notifications) "
                                         "or poll CloudWatch Logs groups into a sink")
    add_forward_arguments(fwd)
    fwd.add_argument("--log-group", action="append", metavar="NAME",
                     help="poll this CloudWatch Logs group with FilterLogEvents (repeatable)")
    fwd.add_argument("--max-pages", type=int, metavar="N", help="log groups: stop after N settled pages")

    dep = sub.add_parser("deploy", help="install index templates and lifecycle policies (idempotent)")
    dep.add_argument("target", choices=("elasticsearch", "opensearch"))
    dep.add_argument("--es-url", metavar="URL", help="Elasticsearch URL (or elasticsearch.url / ES_URL)")
    dep.add_argument("--opensearch-url", metavar="URL", help="OpenSearch URL (or opensearch.url / OPENSEARCH_URL)")
    dep.add_argument("--config", metavar="FILE", help="YAML configuration file")
    dep.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    norm = sub.add_parser("normalize", help="normalize files or directories to ECS NDJSON on stdout")
    norm.add_argument("--type", choices=("auto", *TYPES), default="auto", help="input type (default: detect)")
    norm.add_argument("paths", nargs="+", metavar="PATH")
    _common(norm)

    replay = sub.add_parser("replay-dlq", help="send the documents of a dead-letter file again, once the cause "
                                               "of the refusals is fixed")
    replay.add_argument("path", metavar="DLQ_FILE",
                        help="a dead-letter file (NDJSON) written by --dlq, or an s3://BUCKET/PREFIX of them")
    _sink_options(replay, default=None)
    replay.add_argument("--config", metavar="FILE", help="YAML configuration file")
    replay.add_argument("--dlq", metavar="PATH",
                        help="where what stays dead is written (default: DLQ_FILE's name + .remaining-TIME.ndjson)")
    replay.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    content = sub.add_parser("content", help="detection content for the SIEM: Sigma rules as its queries")
    content.add_argument("kind", choices=("sigma",))
    content.add_argument("rules", nargs="*", metavar="RULE",
                         help="Sigma rule files or folders (default: the bundled CloudTrail rules)")
    content.add_argument("--backend", choices=("lucene", "esql", "eql", "splunk"), default="lucene",
                         help="query language (default: lucene, for Kibana and OpenSearch Dashboards)")
    content.add_argument("--format", choices=("text", "ndjson", "savedsearches"), default="text",
                         dest="output_format",
                         help="savedsearches: Splunk alerts (savedsearches.conf), with --backend splunk")
    content.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    demo = sub.add_parser("demo", help="generate a day of a small AWS estate, normalize it, summarize")
    demo.add_argument("--seed", type=int, default=7, help="generator seed (default: 7)")
    _sink_options(demo, default="file")
    _common(demo)
    return parser


def config_from_args(args: argparse.Namespace) -> AppConfig:
    """Merge the configuration file, the environment and the command line."""
    overrides: dict[str, dict[str, Any]] = {
        "geoip": {"city_db": getattr(args, "geoip_city", None), "asn_db": getattr(args, "geoip_asn", None)},
        "normalize": {"keep_original": getattr(args, "original", None),
                      "drop_nodata": getattr(args, "drop_nodata", None),
                      "vpcflow_format": getattr(args, "vpcflow_format", None)},
        "dlq": {"path": args.dlq},
    }
    if hasattr(args, "sink"):
        overrides["file"] = {"out": args.out}
        overrides["splunk_hec"] = {"hec_url": args.hec_url}
        overrides["elasticsearch"] = {"url": args.es_url}
        overrides["opensearch"] = {"url": args.opensearch_url}
    return load_config(args.config, os.environ, overrides)


def cmd_normalize(args: argparse.Namespace) -> int:
    """Files in, ECS NDJSON on stdout, one summary line on stderr."""
    config = config_from_args(args)
    parts = RunParts.open(config, StdoutSink())
    try:
        summary = parts.pipeline().run(local_units(args.paths, None if args.type == "auto" else args.type))
    finally:
        parts.close()
    print(summary.line(), file=sys.stderr)
    return 0


def _chosen_sink(args: argparse.Namespace, config: AppConfig) -> str:
    kind = args.sink or config.sinks.get("sink", {}).get("type")
    if not kind:
        raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
    if kind not in SINK_KINDS:
        raise ConfigError(f"{config.source_file}: sink.type {kind!r} is not one of {', '.join(SINK_KINDS)}")
    return str(kind)


def _open_sink(kind: str, args: argparse.Namespace, config: AppConfig) -> Sink:
    sink = build_sink(kind, config, os.environ, check=not args.dry_run)
    return DryRunSink(sink) if args.dry_run else sink


def cmd_backfill(args: argparse.Namespace) -> int:
    """Load archived logs into a sink: an S3 bucket (``--bucket``) or local files (``--source``)."""
    if args.bucket or (not args.source and args.enqueue):
        if args.source:
            raise ConfigError("choose --source PATH or --bucket BUCKET, not both")
        return run_s3_backfill(args, config_from_args(args))
    if not args.source:
        raise ConfigError("backfill needs --source PATH or --bucket BUCKET")
    config = config_from_args(args)
    sink = _open_sink(_chosen_sink(args, config), args, config)
    parts = RunParts.open(config, sink)
    try:
        summary = parts.pipeline().run(local_units(args.source, None if args.type == "auto" else args.type))
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0
    finally:
        parts.close()
    print(summary.line(), file=sys.stderr)
    return 0 if summary.dead_lettered == 0 else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo estate, normalize it into a sink (./out by default), print the summary."""
    from connector.demo.run import run_demo

    config = config_from_args(args)
    kind = _chosen_sink(args, config)
    if args.out is None:
        args.out = str(config.sinks.get("file", {}).get("out") or "out")
    sink = None if kind == "file" and not args.dry_run else _open_sink(kind, args, config)
    try:
        return run_demo(args, config, sink)
    except PreviewDone as done:
        print(done, file=sys.stderr)
        return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Install templates and policies into Elasticsearch or OpenSearch; print what changed."""
    from connector.sinks.search_bulk import SearchSinkConfig
    from connector.sinks.search_templates import deploy

    overrides = {"elasticsearch": {"url": args.es_url}, "opensearch": {"url": args.opensearch_url}}
    config = load_config(args.config, os.environ, overrides)
    search_config = SearchSinkConfig.from_settings(dict(config.sinks.get(args.target, {})), os.environ, args.target)
    for line in deploy(search_config):
        print(line)
    return 0


def cmd_replay_dlq(args: argparse.Namespace) -> int:
    """Send a dead-letter file's documents again; what stays dead goes to a new file."""
    from connector.dlq import DeadLetterStore
    from connector.replay import remaining_path_for, replay

    config = config_from_args(args)
    kind = _chosen_sink(args, config)
    from_s3 = args.path.startswith("s3://")
    if not from_s3 and not os.path.isfile(args.path):
        raise ConfigError(f"no dead-letter file at {args.path}")
    target = args.dlq or remaining_path_for(args.path)
    local_target = not target.startswith("s3://")
    if target == args.path or (
        local_target and not from_s3 and os.path.exists(target) and os.path.samefile(target, args.path)
    ):
        raise ConfigError(f"--dlq {target} is the file being replayed; write what stays dead to another file")
    if not local_target and from_s3 and target.rstrip("/").startswith(args.path.rstrip("/") + "/"):
        raise ConfigError(f"--dlq {target} is under the prefix being replayed; write what stays dead elsewhere")
    existed = not local_target or os.path.exists(target)
    sink = _open_sink(kind, args, config)
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
    return 0 if summary.remaining == 0 else 1


def cmd_content(args: argparse.Namespace) -> int:
    """Print each Sigma rule converted for the chosen backend."""
    import orjson

    from connector.detections import convert, splunk_saved_searches

    if args.output_format == "savedsearches" and args.backend != "splunk":
        raise ConfigError("--format savedsearches needs --backend splunk")
    detections = convert(args.backend, args.rules)
    if args.output_format == "savedsearches":
        sys.stdout.write(splunk_saved_searches(detections))
        return 0
    for detection in detections:
        if args.output_format == "ndjson":
            entry = {"id": detection.rule_id, "title": detection.title, "level": detection.level,
                     "backend": args.backend, "query": detection.query}
            sys.stdout.write(orjson.dumps(entry).decode() + "\n")
        else:
            sys.stdout.write(f"# {detection.title} ({detection.level}, {detection.rule_id})\n{detection.query}\n\n")
    return 0


def cmd_forward(args: argparse.Namespace) -> int:
    """The ingestion service: SQS queues, or CloudWatch Logs groups with ``--log-group``."""
    config = config_from_args(args)
    if args.log_group:
        from connector.sources.cloudwatch import run_log_groups

        return run_log_groups(args.log_group, args, config)
    return run_forward(args, config)


COMMANDS = {"normalize": cmd_normalize, "demo": cmd_demo, "backfill": cmd_backfill, "deploy": cmd_deploy,
            "forward": cmd_forward, "replay-dlq": cmd_replay_dlq, "content": cmd_content}


def _load_secrets(args: argparse.Namespace) -> None:
    """With AWS_SIEM_CONNECTOR_SECRETS_ARN set, the secret's variables join this process's environment."""
    from connector.secrets import SECRETS_ARN_VARIABLE, with_configured_secrets

    if os.environ.get(SECRETS_ARN_VARIABLE):
        os.environ.update(with_configured_secrets(os.environ, getattr(args, "config", None)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; errors become one clear line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    try:
        _load_secrets(args)
        return COMMANDS[args.command](args)
    except ConnectorError as exc:
        print(f"aws-siem-connector {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head`: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
