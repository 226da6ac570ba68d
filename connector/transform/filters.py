"""Filter rules: the first rule whose dataset and ``when`` match a document decides — ``drop``
skips it, ``sample`` keeps the share ``rate`` of them, ``keep`` sends it and ends the search. A
document no rule matches is sent. Skips are counted by the rule's name, never dead-lettered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.transform.conditions import Predicate, compile_when
from connector.transform.settings import DATASETS, FilterRule

_SCALE = 1 << 64


def sampled_in(event_id: str, rate: float) -> bool:
    """Whether ``sample`` keeps the document with ``event_id``: the first 8 bytes of its BLAKE2b
    digest, read as a fraction of 2**64, are below ``rate``. A replay, a retry or another worker
    makes the same choice for the same record."""
    digest = hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * _SCALE


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test documents."""

    name: str
    action: str
    matches: Predicate
    rate: float
    reads_threat: bool  # names a threat.* field, so it must see threat-intel marks


@dataclass(frozen=True, slots=True)
class DatasetFilters:
    """The rules and prune list of one dataset, compiled for decoded documents and for the flat
    ``{path: value}`` views the flow-log fast path builds before writing any JSON."""

    rules: tuple[CompiledRule, ...]
    view_rules: tuple[CompiledRule, ...]
    paths: tuple[str, ...]  # the fields the rules read
    prune: tuple[str, ...]

    @classmethod
    def of(cls, rules: Sequence[FilterRule], prune: Sequence[str]) -> DatasetFilters:
        """Compile ``rules`` (already chosen for the dataset) twice."""
        paths = tuple(dict.fromkeys(str(path) for rule in rules for path in rule.when))
        return cls(tuple(_compiled(r, flat=False) for r in rules), tuple(_compiled(r, flat=True) for r in rules),
                   paths, tuple(prune))

    def skipped_by(self, doc: Mapping[str, Any], event_id: str) -> str | None:
        """The rule that leaves a decoded document out, or ``None``."""
        return FilterSet.skipped_by(self.rules, doc, event_id)

    def skipped_by_view(self, view: Mapping[str, Any], event_id: str) -> str | None:
        """The rule that leaves a record out, from its flat view, or ``None``."""
        return FilterSet.skipped_by(self.view_rules, view, event_id)


def _compiled(rule: FilterRule, flat: bool) -> CompiledRule:
    return CompiledRule(rule.name, rule.action, compile_when(rule.when, flat),
                        rule.rate if rule.rate is not None else 1.0,
                        any(str(path).startswith("threat.") for path in rule.when))


class FilterSet:
    """The configured rules, compiled once per process and grouped by the dataset they apply to."""

    def __init__(self, rules: Sequence[FilterRule]) -> None:
        compiled = [_compiled(r, flat=False) for r in rules]
        self._rules = tuple(rules)
        self._by_dataset = {ds: tuple(c for c, r in zip(compiled, rules, strict=True) if r.dataset in (None, ds))
                            for ds in DATASETS}

    def for_dataset(self, dataset: str) -> tuple[CompiledRule, ...]:
        """The rules that can match documents of ``dataset``, in configured order."""
        return self._by_dataset.get(dataset, ())

    def configured_for(self, dataset: str) -> tuple[FilterRule, ...]:
        """The configured rules that apply to ``dataset``, in order."""
        return tuple(r for r in self._rules if r.dataset in (None, dataset))

    @staticmethod
    def skipped_by(rules: Sequence[CompiledRule], doc: Mapping[str, Any], event_id: str) -> str | None:
        """The name of the rule that leaves ``doc`` out, or ``None`` when it is sent."""
        for rule in rules:
            if rule.matches(doc):
                if rule.action == "keep":
                    return None
                if rule.action == "drop" or not sampled_in(event_id, rule.rate):
                    return rule.name
                return None
        return None
