"""Options several commands share (configuration, GeoIP, dead letters, the sink) and the one
place that turns them into the run's configuration and sink."""

from __future__ import annotations

import argparse
import os
from typing import Any

from connector.config import AppConfig, load_config
from connector.errors import ConfigError
from connector.sinks.base import Sink
from connector.sinks.factory import SINK_KINDS, DryRunSink, build_sink


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--config``, GeoIP databases, normalization switches, ``--dlq`` and ``-v``."""
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    parser.add_argument("--geoip-city", metavar="MMDB", help="GeoIP2/GeoLite2 City database (default: embedded)")
    parser.add_argument("--geoip-asn", metavar="MMDB", help="GeoIP2/GeoLite2 ASN database (adds source.as.*)")
    parser.add_argument("--original", action="store_true", default=None,
                        help="keep the source record in event.original")
    parser.add_argument("--drop-nodata", action="store_true", default=None,
                        help="leave out flow records without data (NODATA/SKIPDATA)")
    parser.add_argument("--vpcflow-format", metavar="FORMAT",
                        help="custom format of flow-log lines that come without a header")
    parser.add_argument("--dlq", metavar="PATH",
                        help="dead-letter file (NDJSON) or s3://BUCKET/PREFIX; default: stderr")
    add_verbose_option(parser)


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """``-v``: debug logging."""
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def add_sink_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--sink`` with each sink's address flag, and ``--dry-run``."""
    parser.add_argument("--sink", choices=SINK_KINDS, default=default,
                        help="where documents go" + (f" (default: {default})" if default else ""))
    parser.add_argument("--out", metavar="DIR", help="file sink: directory of the NDJSON files (default: ./out)")
    parser.add_argument("--hec-url", metavar="URL", help="splunk sink: HEC base URL (token from SPLUNK_HEC_TOKEN)")
    parser.add_argument("--es-url", metavar="URL", help="elasticsearch sink: cluster URL")
    parser.add_argument("--opensearch-url", metavar="URL", help="opensearch sink: cluster URL")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the first batch as it would be sent (secrets masked) and send nothing")


def config_from_args(args: argparse.Namespace) -> AppConfig:
    """Merge the configuration file, the environment and the command line."""
    overrides: dict[str, dict[str, Any]] = {
        "geoip": {"city_db": getattr(args, "geoip_city", None), "asn_db": getattr(args, "geoip_asn", None)},
        "normalize": {"keep_original": getattr(args, "original", None),
                      "drop_nodata": getattr(args, "drop_nodata", None),
                      "vpcflow_format": getattr(args, "vpcflow_format", None)},
        "dlq": {"path": getattr(args, "dlq", None)},
    }
    if hasattr(args, "sink"):
        overrides["file"] = {"out": args.out}
        overrides["splunk_hec"] = {"hec_url": args.hec_url}
        overrides["elasticsearch"] = {"url": args.es_url}
        overrides["opensearch"] = {"url": args.opensearch_url}
    return load_config(args.config, os.environ, overrides)


def chosen_sink(args: argparse.Namespace, config: AppConfig) -> str:
    """The sink kind from ``--sink`` or ``sink.type``; a missing or unknown one is a configuration error."""
    kind = args.sink or config.section("sink").get("type")
    if not kind:
        raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
    if kind not in SINK_KINDS:
        raise ConfigError(f"{config.source_file}: sink.type {kind!r} is not one of {', '.join(SINK_KINDS)}")
    return str(kind)


def open_sink(kind: str, args: argparse.Namespace, config: AppConfig) -> Sink:
    """The configured sink, checked against its server; wrapped so that ``--dry-run`` sends nothing."""
    sink = build_sink(kind, config, os.environ, check=not args.dry_run)
    return DryRunSink(sink) if args.dry_run else sink
