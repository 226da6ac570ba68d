"""The Kibana saved objects, without a server: stable unique ids, references that resolve, migration
versions, fields the index templates map with the type each use needs, every source item present
with its query unchanged, and the committed NDJSON equal to what the generator makes."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from connector.content import build, definitions, kibana
from connector.content.definitions import content
from connector.detections import convert, handwritten
from connector.detections.catalogue import DATASETS, catalogue
from tests.content.kibana_objects import (
    QUERYING,
    by_id,
    data_view_ref,
    expectations,
    field_uses,
    lens_layers,
    map_documents_layer,
    query_of,
    reference,
    search_source,
)

REPO = Path(__file__).resolve().parents[2]
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
TERMS = {"keyword", "constant_keyword", "ip", "long", "integer", "short", "byte", "boolean"}
# The mapping types each use of a field needs (None: any mapped type).
NEEDED: dict[str, set[str] | None] = {
    "terms": TERMS, "sum": NUMERIC, "date_histogram": {"date"}, "geo": {"geo_point"}, "sort": {"date"},
    "tooltip": None, "column": None,
}


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return kibana.saved_objects()


@pytest.fixture(scope="module")
def objects_by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return by_id(objects)


def _types(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def test_ids_are_unique_and_the_same_on_every_generation(objects: list[dict[str, Any]]) -> None:
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(i.startswith(f"{definitions.ID_PREFIX}-") for i in ids)
    again = kibana.saved_objects()
    assert [o["id"] for o in again] == ids
    assert build.ndjson(again) == build.ndjson(objects)


def test_the_object_list_covers_every_source_item(objects: list[dict[str, Any]]) -> None:
    declared = content()
    detections = len(convert("lucene").detections) + len(handwritten())
    panels = [p for d in declared.dashboards for p in d.panels]
    assert len(_types(objects, "index-pattern")) == len(declared.data_views) == 4
    assert len(_types(objects, "search")) == len(declared.searches) + detections
    assert len(_types(objects, "map")) == sum(p.type == "map" for p in panels)
    assert len(_types(objects, "lens")) == sum(p.type != "map" for p in panels)
    assert len(_types(objects, "dashboard")) == len(declared.dashboards)
    assert set(expectations()) == {o["id"] for o in objects if o["type"] in QUERYING}


def test_every_object_carries_its_migration_versions_and_is_not_managed(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        assert VERSION.match(obj["coreMigrationVersion"]), obj["id"]
        assert VERSION.match(obj.get("typeMigrationVersion") or obj["migrationVersion"][obj["type"]]), obj["id"]
        assert obj["managed"] is False, obj["id"]
        assert obj["attributes"]["title"], obj["id"]


def test_data_views_name_the_time_field_and_the_connector_data_streams(objects: list[dict[str, Any]]) -> None:
    views = {o["id"]: o["attributes"] for o in _types(objects, "index-pattern")}
    assert set(views) == {f"aws-connector-{k}" for k in ("all", "vpcflow", "cloudtrail", "config")}
    for view in views.values():
        assert view["timeFieldName"] == "@timestamp"
        assert view["title"].startswith("logs-aws_connector.") and view["title"].endswith("-*")


def test_every_reference_resolves_to_an_object_of_its_type(objects_by_id: dict[str, dict[str, Any]]) -> None:
    for obj in objects_by_id.values():
        names = [r["name"] for r in obj["references"]]
        assert len(names) == len(set(names)), obj["id"]
        for ref in obj["references"]:
            target = objects_by_id.get(ref["id"])
            assert target is not None, f"{obj['id']}: reference {ref['name']} to missing {ref['id']}"
            assert target["type"] == ref["type"], f"{obj['id']}: {ref['name']} is a {target['type']}"
        if obj["type"] in QUERYING:
            assert objects_by_id[data_view_ref(obj)["id"]]["type"] == "index-pattern"


def test_dashboards_show_their_panels_by_reference(objects_by_id: dict[str, dict[str, Any]]) -> None:
    for dashboard in content().dashboards:
        obj = objects_by_id[f"aws-connector-{dashboard.id}"]
        assert obj["attributes"]["description"] == dashboard.description
        panels = json.loads(obj["attributes"]["panelsJSON"])
        shown = [reference(obj, p["panelRefName"]) for p in panels]
        assert [p["panelRefName"] for p in panels] == [f"panel_{n}" for n in range(len(panels))]
        assert [r["id"] for r in shown] == [definitions.panel_id(dashboard, p) for p in dashboard.panels]
        for panel, ref in zip(panels, shown, strict=True):
            assert panel["type"] == ref["type"] == objects_by_id[ref["id"]]["type"]
            assert panel["gridData"]["i"] == panel["panelIndex"]
            # Every panel of a dashboard looks at the dashboard's data view.
            assert data_view_ref(objects_by_id[ref["id"]])["id"] == definitions.data_view_id(dashboard.data_view)


def test_dashboard_panels_fit_the_grid_without_overlapping(objects: list[dict[str, Any]]) -> None:
    for obj in _types(objects, "dashboard"):
        cells: set[tuple[int, int]] = set()
        for panel in json.loads(obj["attributes"]["panelsJSON"]):
            grid = panel["gridData"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= kibana.GRID_COLUMNS, (obj["id"], grid)
            covered = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                       for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not covered & cells, (obj["id"], panel["panelIndex"])
            cells |= covered


def test_each_dashboard_has_a_map_of_a_geo_location(objects_by_id: dict[str, dict[str, Any]]) -> None:
    for obj in _types(list(objects_by_id.values()), "dashboard"):
        maps = [objects_by_id[r["id"]] for r in obj["references"] if r["type"] == "map"]
        geo = [map_documents_layer(m)["sourceDescriptor"]["geoField"] for m in maps]
        assert any(g.endswith(".geo.location") for g in geo), obj["id"]


def _mapping_types(view_title: str, field: str) -> set[str]:
    """The field's mapping type in each dataset the data view covers."""
    types = set()
    for dataset in DATASETS:
        if fnmatchcase(f"logs-aws_connector.{dataset.removeprefix('aws.')}-labeled", view_title):
            kind = catalogue(dataset).type_of(field)
            if kind is not None:
                types.add(kind)
    return types


def test_every_field_an_object_names_is_mapped_with_the_type_its_use_needs(
    objects_by_id: dict[str, dict[str, Any]],
) -> None:
    problems = []
    for obj in objects_by_id.values():
        if obj["type"] not in QUERYING:
            continue
        view = objects_by_id[data_view_ref(obj)["id"]]["attributes"]["title"]
        for use in field_uses(obj):
            types = _mapping_types(view, use.field)
            needed = NEEDED[use.use]
            if not types:
                problems.append(f"{obj['id']}: {use.field} ({use.use}) is mapped by no template of {view}")
            elif needed is not None and not types <= needed:
                problems.append(f"{obj['id']}: {use.field} is {sorted(types)}, a {use.use} needs {sorted(needed)}")
    assert not problems, "\n".join(problems)


def test_queries_are_lucene_and_exactly_the_sources(objects_by_id: dict[str, dict[str, Any]]) -> None:
    declared = content()
    wanted = {definitions.search_id(s.id): s.query for s in declared.searches}
    wanted |= {definitions.panel_id(d, p): p.query for d in declared.dashboards for p in d.panels}
    wanted |= {definitions.detection_search_id(d.rule_id): d.query for d in convert("lucene").detections}
    wanted |= {definitions.detection_search_id(h.rule_id): h.base_query for h in handwritten()}
    for oid, query in wanted.items():
        assert query_of(objects_by_id[oid]) == {"query": query, "language": "lucene"}, oid


def test_saved_searches_sort_newest_first_and_show_their_columns(objects_by_id: dict[str, dict[str, Any]]) -> None:
    for search in content().searches:
        attributes = objects_by_id[definitions.search_id(search.id)]["attributes"]
        assert attributes["columns"] == list(search.columns)
        assert attributes["sort"] == [["@timestamp", "desc"]]
    for obj in _types(list(objects_by_id.values()), "search"):
        assert search_source(obj)["indexRefName"] == "kibanaSavedObjectMeta.searchSourceJSON.index"


def test_counting_detections_state_their_threshold(objects_by_id: dict[str, dict[str, Any]]) -> None:
    counting = [d for d in convert("lucene").detections if d.threshold is not None]
    assert counting
    for detection in counting:
        assert detection.threshold is not None
        attributes = objects_by_id[definitions.detection_search_id(detection.rule_id)]["attributes"]
        assert detection.threshold.text() in attributes["description"]
        assert attributes["columns"][: len(detection.threshold.group_by)] == list(detection.threshold.group_by)
    for hand in handwritten():
        attributes = objects_by_id[definitions.detection_search_id(hand.rule_id)]["attributes"]
        if hand.new_terms is not None:
            assert hand.new_terms.history_window in attributes["description"]


def test_lens_panels_aggregate_as_their_source_says(objects_by_id: dict[str, dict[str, Any]]) -> None:
    for dashboard in content().dashboards:
        for panel in dashboard.panels:
            obj = objects_by_id[definitions.panel_id(dashboard, panel)]
            if panel.type == "map":
                source = map_documents_layer(obj)["sourceDescriptor"]
                assert (source["geoField"], source["tooltipProperties"]) == (panel.geo_field, list(panel.tooltip))
                continue
            (layer,) = lens_layers(obj).values()
            columns = [layer["columns"][c] for c in layer["columnOrder"]]
            buckets = [(c["operationType"], c["sourceField"]) for c in columns if c["isBucketed"]]
            (metric,) = [c for c in columns if not c["isBucketed"]]
            if panel.type == "line":
                split = [("terms", panel.split)] if panel.split else []
                assert buckets == [*split, ("date_histogram", "@timestamp")]
                assert columns[len(split)]["params"]["interval"] == panel.interval
            else:
                assert buckets == [("terms", f) for f in panel.terms]
            assert all(c["params"]["size"] == panel.size for c in columns if c["operationType"] == "terms")
            if panel.metric_field:
                assert (metric["operationType"], metric["sourceField"]) == ("sum", panel.metric_field)
            else:
                assert metric["operationType"] == "count"


def test_the_committed_file_is_what_the_generator_makes() -> None:
    committed = REPO / "deploy" / "kibana" / "saved-objects.ndjson"
    assert committed.is_file(), "run: aws-siem-connector content build"
    assert committed.read_bytes() == build.rendered()[build.KIBANA_SAVED_OBJECTS], (
        "deploy/kibana/saved-objects.ndjson is stale; run: aws-siem-connector content build")
