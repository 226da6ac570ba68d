"""The dashboards, panels and saved searches of ``mappings/content/dashboards.yml`` as typed values,
read once, shared by the Kibana and OpenSearch Dashboards generators."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connector.normalize.specs import mappings_dir

PANEL_TYPES = ("map", "line", "bar", "table", "metric")


@dataclass(frozen=True)
class DataView:
    """An index pattern over the connector's data streams; ``key`` is its name in the sources."""

    key: str
    title: str  # the index pattern, e.g. logs-aws_connector.vpcflow-*
    name: str


@dataclass(frozen=True)
class Expectation:
    """What a panel or search must show on the labeled demo day: at least N documents, and/or
    these values among its top terms (the first terms field, or the line's split)."""

    at_least: int = 0
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Panel:
    """One dashboard panel; which attributes apply depends on ``type`` (see the YAML's header)."""

    id: str
    type: str
    title: str
    query: str
    geo_field: str | None = None
    tooltip: tuple[str, ...] = ()
    interval: str | None = None
    split: str | None = None
    terms: tuple[str, ...] = ()
    size: int = 10
    metric: str = "count"  # count, or sum:<field>
    expect: Expectation = field(default_factory=Expectation)

    @property
    def metric_field(self) -> str | None:
        """The summed field of a ``sum:<field>`` metric."""
        return self.metric.split(":", 1)[1] if self.metric.startswith("sum:") else None


@dataclass(frozen=True)
class Dashboard:
    """A dashboard of panels over one data view."""

    id: str
    title: str
    description: str
    data_view: DataView
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class SavedSearch:
    """A saved Discover search: a Lucene query over one data view, with the columns shown."""

    id: str
    title: str
    data_view: DataView
    query: str
    columns: tuple[str, ...]
    expect: Expectation = field(default_factory=Expectation)


@dataclass(frozen=True)
class Content:
    """Everything ``dashboards.yml`` declares."""

    data_views: dict[str, DataView]
    dashboards: tuple[Dashboard, ...]
    searches: tuple[SavedSearch, ...]


def content_path() -> Path:
    """The source file of the dashboards and saved searches."""
    return mappings_dir() / "content" / "dashboards.yml"


def _expect(raw: dict[str, Any] | None) -> Expectation:
    raw = raw or {}
    return Expectation(int(raw.get("at_least", 0)), tuple(str(t) for t in raw.get("terms", ())))


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def _panel(raw: dict[str, Any]) -> Panel:
    if raw["type"] not in PANEL_TYPES:
        raise ValueError(f"panel {raw['id']}: type {raw['type']!r} is not one of {', '.join(PANEL_TYPES)}")
    return Panel(
        id=str(raw["id"]), type=str(raw["type"]), title=str(raw["title"]), query=str(raw["query"]),
        geo_field=raw.get("geo_field"), tooltip=_as_tuple(raw.get("tooltip")), interval=raw.get("interval"),
        split=raw.get("split"), terms=_as_tuple(raw.get("terms")), size=int(raw.get("size", 10)),
        metric=str(raw.get("metric", "count")), expect=_expect(raw.get("expect")),
    )


@cache
def content() -> Content:
    """The declared content, read once."""
    raw = yaml.safe_load(content_path().read_text(encoding="utf-8"))
    views = {key: DataView(key, str(v["title"]), str(v["name"])) for key, v in raw["data_views"].items()}
    dashboards = tuple(
        Dashboard(str(d["id"]), str(d["title"]), str(d["description"]), views[d["data_view"]],
                  tuple(_panel(p) for p in d["panels"]))
        for d in raw["dashboards"])
    searches = tuple(
        SavedSearch(str(s["id"]), str(s["title"]), views[s["data_view"]], str(s["query"]), _as_tuple(s["columns"]),
                    _expect(s.get("expect")))
        for s in raw["searches"])
    return Content(views, dashboards, searches)


def data_view_for(dataset: str) -> DataView:
    """The data view of one dataset (``aws.cloudtrail`` -> the CloudTrail data view)."""
    return content().data_views[dataset.removeprefix("aws.")]


# The data view of every dataset: a detection over several datasets is searched there, its query naming them.
ALL_DATASETS_VIEW = "all"


def data_view_covering(datasets: tuple[str, ...]) -> DataView:
    """The data view that covers ``datasets``: the dataset's own for one, the all-datasets view for more."""
    if len(datasets) == 1:
        return data_view_for(datasets[0])
    return content().data_views[ALL_DATASETS_VIEW]


# Saved-object ids, the same in Kibana and OpenSearch Dashboards: stable, derived from the sources.
ID_PREFIX = "aws-connector"
# What a detection's saved search shows, after the fields the detection groups by.
DETECTION_COLUMNS = {
    "aws.cloudtrail": ("user.name", "event.action", "event.outcome", "source.ip", "cloud.account.id"),
    "aws.vpcflow": ("source.ip", "destination.ip", "destination.port", "aws.vpcflow.action",
                    "aws.vpcflow.interface_id"),
    "aws.config": ("aws.config.resource_type", "aws.config.resource_id", "event.action", "rule.name"),
}


def object_id(*parts: str) -> str:
    """A saved object's id: the connector's prefix and the source ids, e.g. ``aws-connector-network``."""
    return "-".join((ID_PREFIX, *parts))


def data_view_id(view: DataView) -> str:
    """The data view's (index pattern's) id, e.g. ``aws-connector-vpcflow``."""
    return object_id(view.key)


def dashboard_id(dashboard: Dashboard) -> str:
    """A dashboard's id, e.g. ``aws-connector-network``."""
    return object_id(dashboard.id)


def panel_id(dashboard: Dashboard, panel: Panel) -> str:
    """A dashboard panel's object id, e.g. ``aws-connector-network-rejected-ports``."""
    return object_id(dashboard.id, panel.id)


def search_id(search: str) -> str:
    """A saved search's id from its id in the sources, e.g. ``aws-connector-search-rejected-ssh``."""
    return object_id("search", search)


def detection_search_id(rule_id: str) -> str:
    """The id of the saved search of one detection."""
    return object_id("detection", rule_id)


@dataclass(frozen=True)
class DetectionSearch:
    """The saved search of one bundled detection: the events it looks at (a counting rule: the
    events it counts; the hand-written one: the events it compares), grouped fields first."""

    object_id: str
    title: str
    description: str
    data_view: DataView
    query: str
    columns: tuple[str, ...]


def detection_searches() -> tuple[DetectionSearch, ...]:
    """One saved search per bundled detection: the Sigma rules, then the hand-written ones, each in
    title order (the conversion's order is not fixed)."""
    from connector.detections import convert, handwritten

    made = []
    for d in sorted(convert("lucene").detections, key=lambda d: (d.title, d.rule_id)):
        description = f"{d.description} Level: {d.level}. Sigma rule {d.rule_id}."
        grouped: tuple[str, ...] = ()
        if d.threshold is not None:
            description += f" It alerts when {d.threshold.text()}; this search lists the events it counts."
            grouped = d.threshold.group_by
        made.append(DetectionSearch(detection_search_id(d.rule_id), f"Detection: {d.title}", description,
                                    data_view_for(d.dataset), d.query, _columns(d.dataset, grouped)))
    for h in sorted(handwritten(), key=lambda h: (h.title, h.rule_id)):
        description = f"{h.description} Level: {h.level}. Hand-written detection {h.rule_id}."
        fields: tuple[str, ...] = ()
        if h.new_terms is not None:
            fields = h.new_terms.fields
            description += (f" It alerts on a combination of {', '.join(fields)} that the "
                            f"{h.new_terms.history_window} before did not hold; this search lists the "
                            "events it compares.")
        else:
            description += " It alerts on each event this search lists."
        fields = (*fields, *h.columns)
        # A detection over several datasets shows the columns it names, not each dataset's defaults.
        columns = _columns(h.datasets[0], fields) if len(h.datasets) == 1 else tuple(dict.fromkeys(fields))
        made.append(DetectionSearch(detection_search_id(h.rule_id), f"Detection: {h.title}", description,
                                    data_view_covering(h.datasets), h.base_query, columns))
    return tuple(made)


def _columns(dataset: str, first: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *DETECTION_COLUMNS[dataset])))
