"""The processing pipeline from the field names Sigma rules use (CloudTrail's own, VPC flow logs'
own) to the fields this connector's documents have, per query language.

The mapping itself is data (``mappings/sigma/aws_connector_ecs.yml``); this module adds the
steps that need code: free-form CloudTrail keys to their text rendering (ES|QL cannot read the
flattened objects and Elasticsearch matches their keys case-sensitively; Splunk names array
members with ``{}``, which a rule's path does not say), and a last check that every field a rule
names exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.detections.catalogue import FieldCatalogue, catalogue
from connector.normalize.specs import mappings_dir

# Logsource service -> the dataset whose documents its rules run on.
SERVICES = {"cloudtrail": "aws.cloudtrail", "vpcflow": "aws.vpcflow"}
# CloudTrail's free-form objects -> the keyword text rendering the normalizer writes.
RENDERINGS = {
    "requestParameters": "aws.cloudtrail.request_parameters",
    "responseElements": "aws.cloudtrail.response_elements",
    "additionalEventData": "aws.cloudtrail.additional_eventdata",
    "serviceEventDetails": "aws.cloudtrail.service_event_details",
    "insightDetails": "aws.cloudtrail.insight_details",
    "edgeDeviceDetails": "aws.cloudtrail.edge_device_details",
    "eventContext": "aws.cloudtrail.event_context",
}


def pipeline_path() -> Path:
    """The declarative part: field names, dataset conditions, data streams."""
    return mappings_dir() / "sigma" / "aws_connector_ecs.yml"


def catalogues() -> dict[str, FieldCatalogue]:
    """Logsource service -> the fields of its dataset's documents."""
    return {service: catalogue(dataset) for service, dataset in SERVICES.items()}


def build_pipeline(backend: str) -> Any:
    """The whole pipeline for ``backend``: free-form keys (not for Splunk), the mapping, the check."""
    from sigma.processing.conditions import LogsourceCondition
    from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
    from sigma.processing.transformations.placeholder import (
        QueryExpressionPlaceholderTransformation,
        ValueListPlaceholderTransformation,
    )

    from connector.detections.transformations import FreeFormKeys, KnownFields

    declared = ProcessingPipeline.from_yaml(pipeline_path().read_text(encoding="utf-8"))
    style = "wildcard" if backend == "splunk" else "regex"
    first = [ProcessingItem(FreeFormKeys(RENDERINGS, style), identifier="cloudtrail_free_form_keys",
                            rule_conditions=[LogsourceCondition(product="aws", service="cloudtrail")])]
    # Allow-lists ('%allowed_countries%'): Splunk reads a macro the SOC edits in Splunk; the
    # other backends get the list from the pipeline's `vars`.
    placeholders = (QueryExpressionPlaceholderTransformation(expression="`aws_connector_{id}`")
                    if backend == "splunk" else ValueListPlaceholderTransformation())
    first.append(ProcessingItem(placeholders, identifier="allow_lists"))
    before = ProcessingPipeline(first, name="aws-siem-connector free-form keys", priority=10)
    after = ProcessingPipeline([ProcessingItem(KnownFields(catalogues(), frozenset(RENDERINGS)),
                                               identifier="known_fields")],
                               name="aws-siem-connector field check", priority=90)
    return before + declared + after


def allow_lists() -> dict[str, list[str]]:
    """The pipeline's allow-lists (``vars``), which rules name as ``'%name%'``."""
    import yaml

    loaded = yaml.safe_load(pipeline_path().read_text(encoding="utf-8"))
    return {str(name): [str(v) for v in values] for name, values in (loaded.get("vars") or {}).items()}


def allow_list_fields(rules_dir: Path) -> dict[str, str]:
    """The field each allow-list is matched against in the rules under ``rules_dir``
    (``field|expand: '%name%'``)."""
    import yaml

    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and "|expand" in key and isinstance(value, str) and value.startswith("%"):
                    found[value.strip("%")] = key.split("|")[0]
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(rules_dir.rglob("*.yml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            walk((document or {}).get("detection"))
    return found
