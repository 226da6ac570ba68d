"""The document stage: threat-intel marks, filter rules and pruning applied to each chunk of
serialized documents, after normalization and before batching, in every mode.

Documents arrive serialized (the flow-log fast path writes JSON text directly), so a document
is decoded only when a rule or a prune list applies to its dataset, or when the threat-intel
index may hold one of its addresses; it is serialized again only when it changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from connector.transform.filters import CompiledRule, FilterSet
from connector.transform.prune import Pruner, compile_pruner
from connector.transform.settings import FilterRule


class Chunk(Protocol):
    """What the stage reads and rewrites (``connector.pipeline.NormalizedChunk``)."""

    dataset: str
    encoded: list[bytes]
    ids: list[str]
    timestamps: list[str]
    originals: list[str | None] | None


class Marker(Protocol):
    """Threat-intel enrichment (``connector.threat_intel.enrichment.ThreatIntel``)."""

    def might_match(self, encoded: bytes) -> bool: ...

    def enrich(self, doc: dict[str, Any]) -> bool: ...

    def maybe_refresh(self, now: float | None = None) -> None: ...

    def address_listed(self, text: str) -> bool: ...

    @property
    def unlisted_addresses(self) -> set[str]: ...


def settle(text: bytes, event_id: str, rules: tuple[CompiledRule, ...], prune: Pruner | None,
           marker: Marker | None, mark_first: bool = True) -> tuple[bytes | None, str | None]:
    """One serialized document through threat-intel marks, the rules and pruning: the bytes to
    send (``None`` when a rule leaves it out) and the rule that did. The document is decoded only
    when something applies, and serialized again only when it changed. Marks come first when a
    rule reads them (``mark_first``); otherwise after the rules, so that no dropped document is marked."""
    doc: dict[str, Any] | None = None
    changed = False
    if marker is not None and mark_first and marker.might_match(text):
        doc = orjson.loads(text)
        changed = marker.enrich(doc)
    if rules:
        if doc is None:
            doc = orjson.loads(text)
        rule = FilterSet.skipped_by(rules, doc, event_id)
        if rule is not None:
            return None, rule
    if marker is not None and not mark_first and marker.might_match(text):
        if doc is None:
            doc = orjson.loads(text)
        changed = marker.enrich(doc)
    if prune is not None:
        if doc is None:
            doc = orjson.loads(text)
        changed = prune(doc) or changed
    return (orjson.dumps(doc) if changed else text), None


@dataclass(frozen=True, slots=True)
class _Plan:
    rules: tuple[CompiledRule, ...]
    prune: Pruner | None
    mark_first: bool  # a rule reads threat.* fields: mark before filtering
    mark: bool  # False when the dataset's normalizer marks its documents itself


class DocumentStage:
    """Marks, filters and prunes the documents of one process; ``apply`` returns the chunk that
    remains and the number of documents each rule left out."""

    def __init__(self, rules: tuple[FilterRule, ...], prune: Mapping[str, tuple[str, ...]],
                 marker: Marker | None, skip_rules_for: tuple[str, ...] = ()) -> None:
        """``skip_rules_for``: datasets whose normalizer applies the rules, pruning and marks."""
        filters = FilterSet(rules)
        self._marker = marker
        self._plans: dict[str, _Plan] = {}
        for dataset in {*(r.dataset for r in rules if r.dataset), *prune, "aws.vpcflow", "aws.cloudtrail",
                        "aws.config"}:
            apart = dataset in skip_rules_for
            chosen = () if apart else filters.for_dataset(dataset)
            paths = None if apart else prune.get(dataset)
            self._plans[dataset] = _Plan(chosen, compile_pruner(paths) if paths else None,
                                         any(rule.reads_threat for rule in chosen), not apart)

    def apply(self, chunk: Chunk) -> Counter[str]:
        """Rewrite ``chunk`` in place; returns skipped documents by rule name."""
        skipped: Counter[str] = Counter()
        plan = self._plans.get(chunk.dataset)
        marker = self._marker if plan is not None and plan.mark else None
        if plan is None or (not plan.rules and plan.prune is None and marker is None):
            return skipped
        rules, prune, mark_first = plan.rules, plan.prune, plan.mark_first
        encoded_out: list[bytes] = []
        ids_out: list[str] = []
        timestamps_out: list[str] = []
        originals = chunk.originals
        originals_out: list[str | None] | None = [] if originals is not None else None
        for i, text in enumerate(chunk.encoded):
            event_id = chunk.ids[i]
            sent, rule = settle(text, event_id, rules, prune, marker, mark_first)
            if sent is None:
                skipped[rule or ""] += 1
                continue
            encoded_out.append(sent)
            ids_out.append(event_id)
            timestamps_out.append(chunk.timestamps[i])
            if originals_out is not None and originals is not None:
                originals_out.append(originals[i])
        chunk.encoded, chunk.ids, chunk.timestamps, chunk.originals = (encoded_out, ids_out, timestamps_out,
                                                                        originals_out)
        return skipped
