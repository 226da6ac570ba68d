"""The document stage a configuration asks for (``None`` when it asks for none), with its
threat-intel feeds read from disk or S3; a feed that cannot be read stops the start here.

Flow logs, the largest source, are filtered, pruned and marked by their normalizer while it
writes (the fast path decides from each record's values before building any JSON); the stage
does the same for the other datasets on decoded documents.
"""

from __future__ import annotations

import logging
from typing import Any

from connector.config import AppConfig
from connector.transform.filters import DatasetFilters, FilterSet
from connector.transform.stage import DocumentStage, Marker

log = logging.getLogger(__name__)


def threat_marker(config: AppConfig) -> Marker | None:
    """The configured feeds, loaded and indexed (``None`` without feeds); raises ``ConfigError``
    naming a feed that cannot be read or parsed."""
    if not config.threat_intel.feeds:
        return None
    from connector.threat_intel.enrichment import ThreatIntel

    marker = ThreatIntel.load(config.threat_intel, lambda: _s3_client(config))
    log.info("%s", marker.describe())
    return marker


def flow_filters(config: AppConfig) -> DatasetFilters | None:
    """The flow-log rules and prune list, for the flow normalizer (``None`` when there are none)."""
    rules = FilterSet(config.filters).configured_for("aws.vpcflow")
    prune = config.prune_fields.get("aws.vpcflow", ())
    if not rules and not prune:
        return None
    return DatasetFilters.of(rules, prune)


def document_stage(config: AppConfig, marker: Marker | None,
                   normalized_apart: tuple[str, ...] = ()) -> DocumentStage | None:
    """Filters, pruning and threat-intel marks of ``config`` for the datasets not in
    ``normalized_apart`` (whose normalizer applies them)."""
    rules = tuple(r for r in config.filters if not (r.dataset is not None and r.dataset in normalized_apart))
    prune = {ds: paths for ds, paths in config.prune_fields.items() if ds not in normalized_apart}
    if not rules and not prune and marker is None:
        return None
    return DocumentStage(rules, prune, marker, skip_rules_for=normalized_apart)


def check_document_stage(config: AppConfig) -> None:
    """Read the feeds once before worker processes start, so that a feed that cannot be read
    stops the start with its message instead of failing in every worker."""
    threat_marker(config)


def _s3_client(config: AppConfig) -> Any:
    from connector.sources.s3 import aws_client, aws_session

    aws = config.section("aws")
    return aws_client(aws_session(aws), "s3", aws)
