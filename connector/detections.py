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

import yaml

from connector.errors import ConfigError
from connector.normalize.specs import mappings_dir

BACKENDS = ("lucene", "esql", "eql", "splunk")
# The log sources whose fields the processing pipeline maps, as (product, service).
LOGSOURCES = frozenset({("aws", "cloudtrail")})


# Splunk's alert.severity: 1 debug, 2 info, 3 warning, 4 error, 5 severe, 6 fatal.
SPLUNK_SEVERITY = {"informational": 2, "low": 3, "medium": 4, "high": 5, "critical": 6}
SPLUNK_SOURCETYPE = "aws:connector:cloudtrail"


@dataclass(frozen=True, slots=True)
class Detection:
    """One rule in one query language."""

    rule_id: str
    title: str
    level: str
    query: str
    description: str = ""
    path: str = ""


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


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule file, or one rule in it, that could not become a query, and why."""

    path: str
    reason: str

    def line(self) -> str:
        """``RULE_FILE: reason``, the line printed on stderr."""
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Conversion:
    """Every rule that converted, and every one that did not: one bad rule never hides the rest."""

    detections: list[Detection]
    refused: list[Refusal]


def convert(backend: str, rule_paths: Sequence[str | Path] = ()) -> Conversion:
    """Each rule (the bundled ones when ``rule_paths`` is empty) as a query for ``backend``.

    A missing path, an unknown backend or a missing pySigma is an error for the whole run; a rule
    file that cannot be read or a rule that cannot be converted is a ``Refusal`` naming the file.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown Sigma backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    try:
        from sigma.processing.pipeline import ProcessingPipeline
    except ImportError:
        raise ConfigError("Sigma conversion needs pySigma: pip install 'aws-siem-connector[sigma]'") from None
    paths = [Path(p) for p in rule_paths] or [bundled_rules_dir()]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"no Sigma rule at {', '.join(missing)}")
    pipeline = ProcessingPipeline.from_yaml(pipeline_path().read_text(encoding="utf-8"))
    converter = _backend(backend, pipeline)
    rules, refused = _load_rules(paths)
    detections = []
    for rule in rules:
        outcome = _convert_rule(converter, rule)
        if isinstance(outcome, Refusal):
            refused.append(outcome)
        else:
            detections.append(outcome)
    return Conversion(detections, refused)


def _rule_file(rule: Any) -> str:
    source = getattr(rule, "source", None)
    return str(getattr(source, "path", None) or "<rule>")


def _load_rules(paths: Sequence[Path]) -> tuple[list[Any], list[Refusal]]:
    """Every rule of every file that loads; a file that does not load is refused by name."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError, SigmaRuleLocation

    collections = []
    refused: list[Refusal] = []
    for path in SigmaCollection.resolve_paths(list(paths), "**/*.yml"):
        try:
            text = path.read_text(encoding="utf-8")
            collections.append(SigmaCollection.from_yaml(text, source=SigmaRuleLocation(path),
                                                         resolve_references=False))
        except yaml.YAMLError as exc:
            refused.append(Refusal(str(path), " ".join(f"not valid YAML: {exc}".split())))
        except UnicodeDecodeError:
            refused.append(Refusal(str(path), "not UTF-8 text"))
        except SigmaError as exc:
            refused.append(Refusal(str(path), " ".join(f"not a valid Sigma rule: {exc}".split())))
    try:
        merged = SigmaCollection.merge(collections)
    except SigmaError:
        # A correlation that names a rule not loaded: convert the rest; that one fails on its own.
        merged = SigmaCollection.merge(collections, resolve_references=False)
    return list(merged.rules), refused


def _convert_rule(converter: Any, rule: Any) -> Detection | Refusal:
    """One rule as one query, or the reason it cannot be one."""
    from sigma.exceptions import SigmaError

    path = _rule_file(rule)
    # Correlation rules have no log source of their own: they refer to other rules.
    source = getattr(rule, "logsource", None)
    if source is not None and (source.product, source.service) not in LOGSOURCES:
        # Its fields would pass through unmapped and match nothing in this connector's data.
        wanted = " or ".join(f"product: {p}, service: {s}" for p, s in sorted(LOGSOURCES))
        return Refusal(path, f"rule {rule.title!r} is for {_logsource(source)}; only rules for {wanted} convert")
    try:
        queries = converter.convert_rule(rule)
    except (SigmaError, NotImplementedError, ValueError, TypeError, KeyError) as exc:
        return Refusal(path, " ".join(f"rule {rule.title!r}: {type(exc).__name__}: {exc}".split()))
    if len(queries) != 1:
        return Refusal(path, f"rule {rule.title!r} converts to {len(queries)} queries, not one")
    level = rule.level.name.lower() if rule.level else ""
    description = " ".join(str(rule.description or "").split())
    return Detection(str(rule.id), str(rule.title), level, str(queries[0]), description, path)


def _logsource(source: Any) -> str:
    parts = [f"{name}: {value}" for name, value in (("product", source.product), ("service", source.service),
                                                     ("category", source.category)) if value]
    return ", ".join(parts) or "no logsource"


def splunk_saved_searches(detections: Sequence[Detection]) -> str:
    """``savedsearches.conf`` with one alert per rule, scheduled every 5 minutes over the 5 minutes
    before, shipped disabled so that a SOC turns on what it wants. ``aws_connector_index`` is a
    macro (``macros.conf``) that names the indexes holding the connector's events."""
    lines = ["# Generated by: aws-siem-connector content sigma --backend splunk --format savedsearches", ""]
    for d in detections:
        lines += [
            f"[{d.title}]",
            f"description = {d.description} (Sigma rule {d.rule_id})",
            f"search = `aws_connector_index` sourcetype=\"{SPLUNK_SOURCETYPE}\" {d.query}",
            "disabled = 1",
            "enableSched = 1",
            "cron_schedule = */5 * * * *",
            "dispatch.earliest_time = -10m@m",
            "dispatch.latest_time = -5m@m",
            "counttype = number of events",
            "relation = greater than",
            "quantity = 0",
            "alert.track = 1",
            "alert.digest_mode = 1",
            f"alert.severity = {SPLUNK_SEVERITY.get(d.level, 3)}",
            "",
        ]
    return "\n".join(lines)
