"""Reads the Kibana saved objects the way Kibana does: the query, data view and fields each one names,
from the object itself (its JSON-string attributes decoded, its references resolved by name)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from connector.content import definitions, kibana
from connector.content.definitions import Expectation, content
from connector.detections import convert, handwritten

# Object types that run a query over a data view.
QUERYING = ("search", "lens", "map")


@dataclass(frozen=True)
class FieldUse:
    """A field an object names, and what for: terms, sum, date_histogram, geo, tooltip or column."""

    field: str
    use: str


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Objects by id (ids are unique across types)."""
    return {o["id"]: o for o in objects}


def reference(obj: dict[str, Any], name: str) -> dict[str, Any]:
    """The reference of ``obj`` called ``name``."""
    (found,) = [r for r in obj["references"] if r["name"] == name]
    return dict(found)


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    """A saved search's decoded searchSourceJSON."""
    source: dict[str, Any] = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    return source


def map_documents_layer(obj: dict[str, Any]) -> dict[str, Any]:
    """The Elasticsearch documents layer of a map."""
    (layer,) = [layer for layer in json.loads(obj["attributes"]["layerListJSON"])
                if layer["sourceDescriptor"]["type"] == "ES_SEARCH"]
    return dict(layer)


def lens_layers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A Lens visualization's form-based layers by layer id."""
    layers: dict[str, dict[str, Any]] = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return layers


def query_of(obj: dict[str, Any]) -> dict[str, str]:
    """The query (``{"query", "language"}``) a search, Lens visualization or map layer runs."""
    if obj["type"] == "search":
        return dict(search_source(obj)["query"])
    if obj["type"] == "lens":
        return dict(obj["attributes"]["state"]["query"])
    return dict(map_documents_layer(obj)["query"])


def data_view_ref(obj: dict[str, Any]) -> dict[str, Any]:
    """The reference through which a querying object names its data view."""
    if obj["type"] == "search":
        return reference(obj, search_source(obj)["indexRefName"])
    if obj["type"] == "lens":
        (layer_id,) = lens_layers(obj)
        return reference(obj, f"indexpattern-datasource-layer-{layer_id}")
    return reference(obj, map_documents_layer(obj)["sourceDescriptor"]["indexPatternRefName"])


def field_uses(obj: dict[str, Any]) -> list[FieldUse]:
    """Every field a querying object names, with what it is used for."""
    if obj["type"] == "search":
        return [FieldUse(f, "column") for f in obj["attributes"]["columns"]] + [
            FieldUse(name, "sort") for name, _ in obj["attributes"]["sort"]]
    if obj["type"] == "map":
        source = map_documents_layer(obj)["sourceDescriptor"]
        return [FieldUse(source["geoField"], "geo"), FieldUse(source["sortField"], "sort")] + [
            FieldUse(f, "tooltip") for f in source["tooltipProperties"]]
    uses = []
    for layer in lens_layers(obj).values():
        for column in layer["columns"].values():
            if column["sourceField"] != kibana.LENS_RECORDS_FIELD:
                uses.append(FieldUse(column["sourceField"], column["operationType"]))
    return uses


def expectations() -> dict[str, Expectation]:
    """Object id -> what it must show on the labeled demo day: the source's ``expect`` for each
    panel and search; at least one event for each detection's search (the day plants its true
    positives)."""
    declared = content()
    wanted = {definitions.search_id(s.id): s.expect for s in declared.searches}
    wanted |= {definitions.panel_id(d, p): p.expect for d in declared.dashboards for p in d.panels}
    rule_ids = [d.rule_id for d in convert("lucene").detections] + [h.rule_id for h in handwritten()]
    wanted |= {definitions.detection_search_id(r): Expectation(at_least=1) for r in rule_ids}
    return wanted
