"""The ``filters`` and ``prune_fields`` configuration: validated at load, so that a rule with an
unknown operator, an invalid CIDR or a bad regex stops the start with a message naming the rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.errors import ConfigError
from connector.transform.conditions import ConditionError, compile_when

DATASETS = ("aws.vpcflow", "aws.cloudtrail", "aws.config")
ACTIONS = ("drop", "sample", "keep")
RULE_KEYS = ("name", "dataset", "when", "action", "rate")
# The sinks index by these; a document without them cannot be written where it belongs.
UNPRUNABLE = ("@timestamp", "event.id", "event.dataset", "event")


@dataclass(frozen=True, slots=True)
class FilterRule:
    """One rule as configured (plain data, so that worker processes receive it pickled)."""

    name: str
    action: str
    when: Mapping[str, Any]
    dataset: str | None = None
    rate: float | None = None


def filter_rules(raw: Any, where: str) -> tuple[FilterRule, ...]:
    """The ``filters`` list, each rule checked and its conditions compiled once to find errors."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: filters must be a list of rules (each with name, when and action)")
    rules: list[FilterRule] = []
    for position, item in enumerate(raw, 1):
        rules.append(_rule(item, position, where))
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: filter rule name(s) used twice: {', '.join(twice)} "
                          "(each name is a counter in the summary and metrics)")
    return tuple(rules)


def _rule(item: Any, position: int, where: str) -> FilterRule:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: filters entry {position} must be a mapping with name, when and action")
    name = item.get("name")
    if not name or not isinstance(name, str):
        raise ConfigError(f"{where}: filters entry {position}: needs a name (it counts the records it skips)")
    label = f"{where}: filter rule {name!r}"
    unknown = sorted(set(map(str, item)) - set(RULE_KEYS))
    if unknown:
        raise ConfigError(f"{label}: unknown key(s) {', '.join(unknown)}; known: {', '.join(RULE_KEYS)}")
    dataset = item.get("dataset")
    if dataset is not None and dataset not in DATASETS:
        raise ConfigError(f"{label}: dataset {dataset!r} is not one of {', '.join(DATASETS)}")
    action = item.get("action")
    if action not in ACTIONS:
        raise ConfigError(f"{label}: action {action!r} is not one of {', '.join(ACTIONS)}")
    rate = item.get("rate")
    if action == "sample":
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ConfigError(f"{label}: action sample needs a rate between 0 and 1 (the share kept), "
                              f"got {rate!r}")
        rate = float(rate)
    elif rate is not None:
        raise ConfigError(f"{label}: rate applies to action sample only")
    when = item.get("when") or {}
    if not isinstance(when, dict):
        raise ConfigError(f"{label}: when must map ECS field paths to conditions")
    try:
        compile_when(when)
    except ConditionError as exc:
        raise ConfigError(f"{label}: when.{exc}") from None
    return FilterRule(name=name, action=str(action), when=dict(when), dataset=dataset, rate=rate)


def prune_settings(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    """``prune_fields``: per dataset, the field paths removed before sending."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: prune_fields must map datasets to lists of field paths")
    out: dict[str, tuple[str, ...]] = {}
    for dataset, paths in raw.items():
        if dataset not in DATASETS:
            raise ConfigError(f"{where}: prune_fields: dataset {dataset!r} is not one of {', '.join(DATASETS)}")
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise ConfigError(f"{where}: prune_fields.{dataset} must be a list of field paths")
        kept = sorted(p for p in paths if p in UNPRUNABLE)
        if kept:
            raise ConfigError(f"{where}: prune_fields.{dataset}: {', '.join(kept)} cannot be removed "
                              "(sinks index and deduplicate by @timestamp, event.id and event.dataset)")
        out[str(dataset)] = tuple(paths)
    return out
