"""``deploy``: install what the connector's documents need in the SIEM, idempotently.

``elasticsearch`` / ``opensearch``: index templates and the lifecycle policy. ``kibana``,
``opensearch-dashboards``, ``opensearch-alerting``: the generated dashboards, searches, detection
rules and monitors (``connector.deploy``), one line per object, then a summary line.
"""

from __future__ import annotations

import argparse
import os
import sys

from connector.commands import exit_code
from connector.commands.options import add_verbose_option
from connector.config import load_config
from connector.errors import ConfigError

NAME = "deploy"
HELP = "install index templates and lifecycle policies, dashboards, detection rules and monitors (idempotent)"
SEARCH_TARGETS = ("elasticsearch", "opensearch")
CONTENT_TARGETS = ("kibana", "opensearch-dashboards", "opensearch-alerting")
# Options of the content targets, and the targets each applies to.
_APPLIES_TO = {
    "kibana_url": ("kibana",),
    "space": ("kibana",),
    "dashboards_url": ("opensearch-dashboards",),
    "tenant": ("opensearch-dashboards",),
    "overwrite": ("kibana", "opensearch-dashboards"),
    "dry_run": CONTENT_TARGETS,
    "content_dir": CONTENT_TARGETS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The target, its address and what to install."""
    parser.add_argument("target", choices=SEARCH_TARGETS + CONTENT_TARGETS)
    parser.add_argument("--es-url", metavar="URL", help="Elasticsearch URL (or elasticsearch.url / ES_URL)")
    parser.add_argument("--opensearch-url", metavar="URL",
                        help="OpenSearch URL, for opensearch and opensearch-alerting (or opensearch.url / "
                             "OPENSEARCH_URL)")
    parser.add_argument("--kibana-url", metavar="URL", help="Kibana URL (or kibana.url / KIBANA_URL)")
    parser.add_argument("--dashboards-url", metavar="URL",
                        help="OpenSearch Dashboards URL (or opensearch_dashboards.url / OPENSEARCH_DASHBOARDS_URL)")
    parser.add_argument("--space", metavar="ID", help="kibana: the space to install into (default: the default space)")
    parser.add_argument("--tenant", metavar="NAME",
                        help="opensearch-dashboards: the security tenant (global, private or a tenant's name)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace objects that exist (default: keep them)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be created, kept, overwritten or updated, and change nothing")
    parser.add_argument("--content-dir", metavar="DIR",
                        help="the folder of the generated files (default: the ones shipped with the connector)")
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    add_verbose_option(parser)


def run(args: argparse.Namespace) -> int:
    """Install into the target; print one line per object and a summary. Exit 1 when the target
    refused some objects (the others are installed)."""
    for option, targets in _APPLIES_TO.items():
        if getattr(args, option) not in (None, False) and args.target not in targets:
            flag = "--" + option.replace("_", "-")
            raise ConfigError(f"{flag} applies to deploy {' and '.join(targets)}, not deploy {args.target}")
    overrides = {
        "elasticsearch": {"url": args.es_url},
        "opensearch": {"url": args.opensearch_url},
        "kibana": {"url": args.kibana_url, "space": args.space},
        "opensearch_dashboards": {"url": args.dashboards_url, "tenant": args.tenant},
    }
    config = load_config(args.config, os.environ, overrides)
    if args.target in SEARCH_TARGETS:
        from connector.sinks.search_config import SearchSinkConfig
        from connector.sinks.search_templates import deploy

        search_config = SearchSinkConfig.from_settings(config.section(args.target), os.environ, args.target)
        for line in deploy(search_config):
            print(line)
        return 0
    from connector.deploy.content_files import content_root

    root = content_root(args.content_dir)
    if args.target == "opensearch-alerting":
        from connector.deploy.opensearch_alerting import deploy_opensearch_alerting
        from connector.sinks.search_config import SearchSinkConfig

        opensearch = SearchSinkConfig.from_settings(config.section("opensearch"), os.environ, "opensearch")
        report = deploy_opensearch_alerting(opensearch, root, dry_run=args.dry_run)
    else:
        from connector.deploy.dashboards_config import KIBANA, OPENSEARCH_DASHBOARDS, DashboardsConfig

        product = KIBANA if args.target == "kibana" else OPENSEARCH_DASHBOARDS
        dashboards = DashboardsConfig.from_settings(product, config.section(product.section), os.environ)
        if product is KIBANA:
            from connector.deploy.kibana import deploy_kibana

            report = deploy_kibana(dashboards, root, overwrite=args.overwrite, dry_run=args.dry_run)
        else:
            from connector.deploy.opensearch_dashboards import deploy_opensearch_dashboards

            report = deploy_opensearch_dashboards(dashboards, root, overwrite=args.overwrite, dry_run=args.dry_run)
    for outcomes in report.outcomes:
        for line in outcomes.lines:
            print(line)
        for line in outcomes.failures:
            print(line, file=sys.stderr)
    print(report.summary())
    return exit_code(report.failed)
