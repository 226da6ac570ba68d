"""Sigma rules converted into the query language of the SIEM that holds the documents.

A counting rule (a Sigma correlation: event_count or value_count) becomes one native query in
ES|QL and Splunk (``stats`` over time buckets). Lucene and EQL cannot count, so there it becomes
its base query plus a ``Threshold`` that a threshold rule (Elastic Security) or an aggregation
applies.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.detections.pipeline import SERVICES, build_pipeline, catalogues
from connector.detections.rules import Refusal, bundled_rules_dir, load_rules, one_line, rule_file
from connector.errors import ConfigError

# The query languages; their pySigma backends (an optional extra) load only when a rule converts.
BACKENDS = ("lucene", "esql", "eql", "splunk")
# What a Lucene or EQL query cannot say.
_NO_FIELD_REFERENCES = {"lucene", "eql"}


@dataclass(frozen=True, slots=True)
class Threshold:
    """How many events (``event_count``) or distinct values of ``field`` (``value_count``) per group
    within ``timespan`` make an alert."""

    kind: str
    group_by: tuple[str, ...]
    timespan: str
    operator: str  # gt, gte, lt, lte, eq
    count: int
    field: str | None = None

    def text(self) -> str:
        """``count >= 5 per source.ip, destination.port within 1m``."""
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}[self.operator]
        measure = "count" if self.kind == "event_count" else f"distinct {self.field}"
        return f"{measure} {sign} {self.count} per {', '.join(self.group_by) or 'all'} within {self.timespan}"


@dataclass(frozen=True, slots=True)
class Detection:
    """One rule in one query language."""

    rule_id: str
    title: str
    level: str
    query: str
    description: str = ""
    path: str = ""
    dataset: str = ""
    tags: tuple[str, ...] = ()
    threshold: Threshold | None = None


@dataclass(frozen=True)
class Conversion:
    """Every rule that converted, and every one that did not: one bad rule never hides the rest."""

    detections: list[Detection]
    refused: list[Refusal]


def convert(backend_name: str, rule_paths: Sequence[str | Path] = ()) -> Conversion:
    """Each rule (the bundled ones when ``rule_paths`` is empty) as a query for ``backend_name``.

    A missing path, an unknown backend or a missing pySigma is an error for the whole run; a rule
    file that cannot be read or a rule that cannot be converted is a ``Refusal`` naming the file.
    """
    if backend_name not in BACKENDS:
        raise ConfigError(f"unknown Sigma backend {backend_name!r}; choose one of {', '.join(BACKENDS)}")
    try:
        import sigma  # noqa: F401
    except ImportError:
        raise ConfigError("Sigma conversion needs pySigma: pip install 'aws-siem-connector[sigma]'") from None
    from connector.detections.backends import backend
    paths = [Path(p) for p in rule_paths] or [bundled_rules_dir()]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"no Sigma rule at {', '.join(missing)}")
    converter = backend(backend_name, build_pipeline(backend_name), catalogues())
    collection, refused = load_rules(paths)
    detections: list[Detection] = []
    for rule in collection.get_output_rules():
        outcome = _convert_rule(converter, backend_name, rule)
        if isinstance(outcome, Refusal):
            refused.append(outcome)
        else:
            detections.append(outcome)
    return Conversion(detections, refused)


def _logsource(source: Any) -> str:
    parts = [f"{name}: {value}" for name, value in (("product", source.product), ("service", source.service),
                                                     ("category", source.category)) if value]
    return ", ".join(parts) or "no logsource"


def _base_rules(rule: Any) -> list[Any]:
    return [ref.rule for ref in (getattr(rule, "rules", None) or []) if getattr(ref, "rule", None) is not None]


def _dataset(rule: Any) -> str:
    source = getattr(rule, "logsource", None)
    if source is None:
        bases = _base_rules(rule)
        return _dataset(bases[0]) if bases else ""
    return SERVICES.get(str(source.service), "")


def _uses_field_reference(rule: Any) -> bool:
    from sigma.types import SigmaFieldReference

    def walk(items: list[Any]) -> bool:
        for item in items:
            if hasattr(item, "detection_items"):
                if walk(item.detection_items):
                    return True
            elif any(isinstance(v, SigmaFieldReference) for v in item.value):
                return True
        return False

    detection = getattr(rule, "detection", None)
    return detection is not None and any(walk(d.detection_items) for d in detection.detections.values())


def _refusal_for_logsource(rule: Any) -> str | None:
    # Correlation rules have no log source of their own: they refer to other rules.
    for checked in [rule, *_base_rules(rule)]:
        source = getattr(checked, "logsource", None)
        if source is not None and (source.product, source.service) not in {("aws", s) for s in SERVICES}:
            # Its fields would pass through unmapped and match nothing in this connector's data.
            wanted = " or ".join(f"product: aws, service: {s}" for s in SERVICES)
            return f"rule {checked.title!r} is for {_logsource(source)}; only rules for {wanted} convert"
    return None


def _convert_rule(converter: Any, backend_name: str, rule: Any) -> Detection | Refusal:
    """One rule as one query, or the reason it cannot be one."""
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaError

    path = rule_file(rule)
    why = _refusal_for_logsource(rule)
    if why:
        return Refusal(path, why)
    if backend_name in _NO_FIELD_REFERENCES and any(map(_uses_field_reference, [rule, *_base_rules(rule)])):
        return Refusal(path, f"rule {rule.title!r} compares two fields (|fieldref), which a {backend_name} query "
                             "cannot express; convert it with --backend esql or splunk")
    threshold = None
    try:
        if isinstance(rule, SigmaCorrelationRule) and backend_name in _NO_FIELD_REFERENCES:
            threshold = _threshold(rule, backend_name)
            queries = [_joined(backend_name, [_single(converter, base) for base in _base_rules(rule)])]
        elif isinstance(rule, SigmaCorrelationRule):
            for base in _base_rules(rule):
                converter.convert_rule(base)  # kept on the rule for the correlation, not output
            queries = converter.convert_correlation_rule(rule)
        else:
            queries = converter.convert_rule(rule)
    except SigmaError as exc:
        return Refusal(path, _shortened(f"rule {rule.title!r}: {exc}"))
    except Exception as exc:  # a backend's own bug in one rule must not hide the others
        return Refusal(path, _shortened(f"rule {rule.title!r}: {type(exc).__name__}: {exc}"))
    if len(queries) != 1:
        return Refusal(path, f"rule {rule.title!r} converts to {len(queries)} queries, not one")
    level = rule.level.name.lower() if rule.level else ""
    return Detection(str(rule.id), str(rule.title), level, str(queries[0]), one_line(str(rule.description or "")),
                     path, _dataset(rule), tuple(str(t) for t in rule.tags), threshold)


def _shortened(text: str, limit: int = 400) -> str:
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _single(converter: Any, rule: Any) -> str:
    """The query of a correlation's base rule, which pySigma otherwise leaves out of the output."""
    base = copy.deepcopy(rule)
    base._output = True
    (query,) = converter.convert_rule(base)
    return str(query)


def _joined(backend_name: str, queries: list[str]) -> str:
    if len(queries) == 1:
        return queries[0]
    return (" OR " if backend_name == "lucene" else " or ").join(f"({q})" for q in queries)


def _threshold(rule: Any, backend_name: str) -> Threshold:
    """The correlation's condition with its field names mapped as the base rules' fields are."""
    kind = rule.type.name.lower()
    if kind not in ("event_count", "value_count"):
        raise NotImplementedError(f"a {kind} correlation has no {backend_name} form; convert it with "
                                  "--backend esql or splunk")
    mapped = copy.deepcopy(rule)
    build_pipeline(backend_name).apply(mapped)
    condition = mapped.condition
    field = condition.fieldref if isinstance(condition.fieldref, str) else None
    return Threshold(kind, tuple(mapped.group_by or ()), str(rule.timespan.spec), condition.op.name.lower(),
                     int(condition.count), field)
