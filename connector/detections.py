"""Sigma detections for CloudTrail, converted into the query language of the SIEM that holds the
documents: the bundled rules (``mappings/sigma/rules``) or any others written for
``product: aws, service: cloudtrail`` with CloudTrail's own field names, as SigmaHQ writes them.

The processing pipeline ``mappings/sigma/aws_connector_ecs.yml`` maps those names to the ECS
fields this connector writes, so a rule runs unchanged on its data in Elasticsearch, OpenSearch
or Splunk. pySigma and its backends are an optional extra: ``pip install 'aws-siem-connector[sigma]'``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.normalize.specs import mappings_dir

BACKENDS = ("lucene", "esql", "eql", "splunk")


@dataclass(frozen=True, slots=True)
class Detection:
    """One rule in one query language."""

    rule_id: str
    title: str
    level: str
    query: str


def bundled_rules_dir() -> Path:
    """The rules that ship with the connector."""
    return mappings_dir() / "sigma" / "rules"


def pipeline_path() -> Path:
    """The processing pipeline from CloudTrail's field names to this connector's ECS fields."""
    return mappings_dir() / "sigma" / "aws_connector_ecs.yml"


def _backend(name: str, pipeline: Any) -> Any:
    module, class_name = {
        "lucene": ("sigma.backends.elasticsearch.elasticsearch_lucene", "LuceneBackend"),
        "esql": ("sigma.backends.elasticsearch.elasticsearch_esql", "ESQLBackend"),
        "eql": ("sigma.backends.elasticsearch.elasticsearch_eql", "EqlBackend"),
        "splunk": ("sigma.backends.splunk.splunk", "SplunkBackend"),
    }[name]
    try:
        backend_class = getattr(importlib.import_module(module), class_name)
    except ImportError:
        package = "pysigma-backend-splunk" if name == "splunk" else "pysigma-backend-elasticsearch"
        raise ConfigError(f"the {name} backend needs {package}: pip install 'aws-siem-connector[sigma]'") from None
    return backend_class(processing_pipeline=pipeline)


def convert(backend: str, rule_paths: Sequence[str | Path] = ()) -> list[Detection]:
    """Each rule (the bundled ones when ``rule_paths`` is empty) as a query for ``backend``."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown Sigma backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    try:
        from sigma.collection import SigmaCollection
        from sigma.exceptions import SigmaError
        from sigma.processing.pipeline import ProcessingPipeline
    except ImportError:
        raise ConfigError("Sigma conversion needs pySigma: pip install 'aws-siem-connector[sigma]'") from None
    paths = [Path(p) for p in rule_paths] or [bundled_rules_dir()]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"no Sigma rule at {', '.join(missing)}")
    try:
        pipeline = ProcessingPipeline.from_yaml(pipeline_path().read_text(encoding="utf-8"))
        rules = SigmaCollection.load_ruleset([str(p) for p in paths])
        converter = _backend(backend, pipeline)
        detections = []
        for rule in rules.rules:
            (query,) = converter.convert_rule(rule)
            detections.append(Detection(str(rule.id), str(rule.title), rule.level.name.lower() if rule.level else "",
                                        str(query)))
    except SigmaError as exc:
        raise ConfigError(f"Sigma: {exc}") from None
    return detections
