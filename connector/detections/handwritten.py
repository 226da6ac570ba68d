"""Detections Sigma cannot express, written by hand per SIEM (``mappings/sigma/handwritten.yml``),
each with the reason Sigma cannot hold it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connector.normalize.specs import mappings_dir


@dataclass(frozen=True, slots=True)
class NewTerms:
    """Alert on a combination of ``fields`` values that the ``history_window`` before did not hold."""

    fields: tuple[str, ...]
    history_window: str


@dataclass(frozen=True, slots=True)
class HandwrittenDetection:
    """One hand-written detection: the events it looks at (Lucene), how it compares them (without
    ``new_terms``, each event it matches is an alert), and its Splunk search. Unlike a Sigma rule
    it may span datasets (``datasets``)."""

    rule_id: str
    title: str
    level: str
    datasets: tuple[str, ...]
    description: str
    why_not_sigma: str
    tags: tuple[str, ...]
    base_query: str
    new_terms: NewTerms | None
    splunk: str
    splunk_earliest: str
    splunk_latest: str = "now"
    columns: tuple[str, ...] = ()  # what its saved search shows first (after any new-terms fields)


def handwritten_path() -> Path:
    """Where the hand-written detections are listed."""
    return mappings_dir() / "sigma" / "handwritten.yml"


def _datasets(entry: dict[str, Any]) -> tuple[str, ...]:
    value = entry["datasets"]
    datasets = (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)
    if not datasets:
        raise ValueError(f"hand-written detection {entry.get('title')!r}: datasets is empty")
    return datasets


def _one(entry: dict[str, Any]) -> HandwrittenDetection:
    terms = entry.get("new_terms")
    return HandwrittenDetection(
        rule_id=str(entry["id"]), title=str(entry["title"]), level=str(entry["level"]),
        datasets=_datasets(entry), description=" ".join(str(entry["description"]).split()),
        why_not_sigma=" ".join(str(entry["why_not_sigma"]).split()), tags=tuple(entry.get("tags", ())),
        base_query=" ".join(str(entry["base_query"]).split()),
        new_terms=NewTerms(tuple(terms["fields"]), str(terms["history_window"])) if terms else None,
        splunk=" ".join(str(entry["splunk"]).split()), splunk_earliest=str(entry.get("splunk_earliest", "-10m@m")),
        splunk_latest=str(entry.get("splunk_latest", "now")),
        columns=tuple(str(c) for c in entry.get("columns", ())),
    )


@cache
def handwritten() -> tuple[HandwrittenDetection, ...]:
    """Every hand-written detection, in file order."""
    loaded = yaml.safe_load(handwritten_path().read_text(encoding="utf-8"))
    return tuple(_one(entry) for entry in loaded["detections"])
