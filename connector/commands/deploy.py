"""``deploy``: install what the connector's documents need in the SIEM, idempotently."""

from __future__ import annotations

import argparse
import os

from connector.commands.options import add_verbose_option
from connector.config import load_config

NAME = "deploy"
HELP = "install index templates and lifecycle policies (idempotent)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The target and its address."""
    parser.add_argument("target", choices=("elasticsearch", "opensearch"))
    parser.add_argument("--es-url", metavar="URL", help="Elasticsearch URL (or elasticsearch.url / ES_URL)")
    parser.add_argument("--opensearch-url", metavar="URL", help="OpenSearch URL (or opensearch.url / OPENSEARCH_URL)")
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    add_verbose_option(parser)


def run(args: argparse.Namespace) -> int:
    """Install templates and policies into Elasticsearch or OpenSearch; print what changed."""
    from connector.sinks.search_config import SearchSinkConfig
    from connector.sinks.search_templates import deploy

    overrides = {"elasticsearch": {"url": args.es_url}, "opensearch": {"url": args.opensearch_url}}
    config = load_config(args.config, os.environ, overrides)
    search_config = SearchSinkConfig.from_settings(config.section(args.target), os.environ, args.target)
    for line in deploy(search_config):
        print(line)
    return 0
