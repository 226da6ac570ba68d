"""The OpenSearch Dashboards saved objects and the Alerting monitors, checked without a server:
ids unique and stable, every reference resolving, every field they name mapped by the OpenSearch
index templates with the type its use needs, one monitor per detection of the right kind, and
the committed files equal to what ``content build`` writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.content import build, definitions, opensearch_dashboards, opensearch_monitors
from connector.content.definitions import content
from connector.detections import convert, handwritten
from connector.detections.catalogue import DATASETS, catalogue

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TERMS_TYPES = frozenset({"keyword", "ip", "long", "integer", "short", "byte", "boolean"})
NUMERIC_TYPES = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                           "unsigned_long"})


def _type_in(dataset: str, field: str) -> str | None:
    """The type OpenSearch's template gives ``field`` (a key of a flat object: ``flat_object``)."""
    return catalogue(dataset, "opensearch").type_of(field)


def _datasets_of(index_pattern: str) -> tuple[str, ...]:
    """The datasets an index pattern such as ``logs-aws_connector.vpcflow-*`` covers."""
    return tuple(d for d in DATASETS if re.fullmatch(index_pattern.replace(".", r"\.").replace("*", ".*"),
                                                     f"logs-aws_connector.{d[4:]}-default"))


def _field_problem(index_pattern: str, field: str, allowed: frozenset[str] | None) -> str | None:
    """Why ``field`` cannot serve over ``index_pattern`` (unmapped, or of a type its use cannot take)."""
    types = {t for t in (_type_in(d, field) for d in _datasets_of(index_pattern)) if t is not None}
    if not types:
        return f"{field} is mapped in none of the templates of {index_pattern}"
    if allowed is not None and not types <= allowed:
        return f"{field} is {sorted(types)} over {index_pattern}, not one of {sorted(allowed)}"
    return None


_QUOTED_OR_REGEX = re.compile(r'"(?:\\.|[^"\\])*"|(?<!\\)/(?:\\.|[^/\\])*(?<!\\)/')
_FIELD = re.compile(r"(?:^|[\s(])(?:_exists_:)?([A-Za-z_@][\w.@]*)(?<!\\):")
_EXISTS = re.compile(r"_exists_:([\w.@]+)")


def lucene_fields(query: str) -> set[str]:
    """The fields a Lucene query names (``field:value`` and ``_exists_:field``)."""
    bare = _QUOTED_OR_REGEX.sub('""', query)
    named = {f for f in _FIELD.findall(bare) if f != "_exists_"}
    return named | set(_EXISTS.findall(bare))


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return opensearch_dashboards.saved_objects()


@pytest.fixture(scope="module")
def monitors() -> dict[str, dict[str, Any]]:
    return opensearch_monitors.monitors()


def _by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["type"], o["id"]): o for o in objects}


def _search_source(obj: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    return source


def _index_pattern_of(obj: dict[str, Any], by_id: dict[tuple[str, str], dict[str, Any]]) -> str:
    (ref,) = [r for r in obj["references"] if r["name"] == _search_source(obj)["indexRefName"]]
    title: str = by_id[("index-pattern", ref["id"])]["attributes"]["title"]
    return title


def test_ids_are_unique_and_stable(objects: list[dict[str, Any]]) -> None:
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))
    assert objects == opensearch_dashboards.saved_objects()
    declared = content()
    expected = {f"aws-connector-{d.id}-{p.id}" for d in declared.dashboards for p in d.panels}
    assert {o["id"] for o in objects if o["type"] == "visualization"} == expected
    dashboards = {f"aws-connector-{d.id}" for d in declared.dashboards}
    assert {o["id"] for o in objects if o["type"] == "dashboard"} == dashboards
    assert {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"} == {
        v.title for v in declared.data_views.values()}
    detections = [*convert("lucene").detections, *handwritten()]
    assert len([o for o in objects if o["type"] == "search"]) == len(declared.searches) + len(detections)


def test_every_object_carries_the_migration_version_of_its_type(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        assert obj["migrationVersion"] == {obj["type"]: opensearch_dashboards.MIGRATION_VERSIONS[obj["type"]]}
        if obj["type"] == "index-pattern":
            assert obj["attributes"]["timeFieldName"] == "@timestamp"


def test_references_resolve_from_dashboard_to_index_pattern(objects: list[dict[str, Any]]) -> None:
    by_id = _by_id(objects)
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in by_id, f"{obj['id']} refers to a missing {ref['type']} {ref['id']}"
        if obj["type"] in ("search", "visualization"):
            source = _search_source(obj)
            assert source["query"]["language"] == "lucene"
            assert [r["type"] for r in obj["references"]] == ["index-pattern"]
            assert _index_pattern_of(obj, by_id)
    for dashboard in (o for o in objects if o["type"] == "dashboard"):
        panels = json.loads(dashboard["attributes"]["panelsJSON"])
        names = {r["name"]: r for r in dashboard["references"]}
        assert sorted(p["panelRefName"] for p in panels) == sorted(names)
        assert all(names[p["panelRefName"]]["type"] == "visualization" for p in panels)
        assert len({p["panelIndex"] for p in panels}) == len(panels)


def test_detection_searches_hold_each_detection_query(objects: list[dict[str, Any]]) -> None:
    by_id = _by_id(objects)
    queries = [*((d.rule_id, (d.dataset,), d.query) for d in convert("lucene").detections),
               *((h.rule_id, h.datasets, h.base_query) for h in handwritten())]
    for rule_id, datasets, query in queries:
        search = by_id[("search", definitions.detection_search_id(rule_id))]
        assert _search_source(search)["query"]["query"] == query
        pattern = _index_pattern_of(search, by_id)
        # One dataset: its own pattern; several: the all-datasets pattern, the query naming them.
        assert pattern == (f"logs-aws_connector.{datasets[0][4:]}-*" if len(datasets) == 1
                           else "logs-aws_connector.*-*"), rule_id
        assert set(datasets) <= set(_datasets_of(pattern))
        assert len(datasets) == 1 or all(d in query for d in datasets), rule_id


def _visualization_fields(vis_state: dict[str, Any]) -> Iterator[tuple[str, frozenset[str]]]:
    """Each field an aggregation names, with the types that aggregation can use."""
    for agg in vis_state["aggs"]:
        field = agg["params"].get("field")
        needs = {"geohash_grid": frozenset({"geo_point"}), "sum": NUMERIC_TYPES, "terms": TERMS_TYPES,
                 "date_histogram": frozenset({"date"})}
        if field is not None:
            yield field, needs[agg["type"]]


def test_every_field_of_a_search_or_visualization_is_mapped_with_the_type_it_needs(
    objects: list[dict[str, Any]],
) -> None:
    by_id = _by_id(objects)
    problems = []
    for obj in objects:
        if obj["type"] not in ("search", "visualization"):
            continue
        pattern = _index_pattern_of(obj, by_id)
        named: list[tuple[str, frozenset[str] | None]] = [
            (f, None) for f in lucene_fields(_search_source(obj)["query"]["query"])]
        if obj["type"] == "search":
            named += [(f, None) for f in obj["attributes"]["columns"]]
        else:
            vis_state = json.loads(obj["attributes"]["visState"])
            named += list(_visualization_fields(vis_state))
            if vis_state["type"] == "tile_map":
                assert [a["type"] for a in vis_state["aggs"]] == ["count", "geohash_grid"]
        problems += [f"{obj['id']}: {p}" for f, allowed in named if (p := _field_problem(pattern, f, allowed))]
    assert not problems, "\n".join(problems)


def test_lucene_field_names_are_read_from_queries() -> None:
    query = ('error.message:*not\\ authorized* OR (a.b:(x OR y) AND NOT _exists_:c.d) '
             'AND e.f:/.*g:h.*/ AND i:"j:k" AND source.ip:10.0.0.0\\/8')
    assert lucene_fields(query) == {"error.message", "a.b", "c.d", "e.f", "i", "source.ip"}


def _titles_to_ids() -> dict[str, str]:
    return {**{d.title: d.rule_id for d in convert("lucene").detections},
            **{h.title: h.rule_id for h in handwritten()}}


def test_one_monitor_per_detection_and_bucket_level_exactly_for_counting_rules(
    monitors: dict[str, dict[str, Any]],
) -> None:
    detections = convert("lucene").detections
    by_name = {m["name"]: m for m in monitors.values()}
    assert len(by_name) == len(monitors) == len(detections) + len(handwritten())
    assert set(by_name) == set(_titles_to_ids())
    for detection in detections:
        monitor = by_name[detection.title]
        expected_kind = "query_level_monitor" if detection.threshold is None else "bucket_level_monitor"
        assert monitor["monitor_type"] == expected_kind, detection.title
        assert monitor["inputs"][0]["search"]["indices"] == [f"logs-aws_connector.{detection.dataset[4:]}-*"]
        filters = monitor["inputs"][0]["search"]["query"]["query"]["bool"]["filter"]
        assert filters[0] == {"query_string": {"query": detection.query}}
        assert set(filters[1]["range"]) == {"@timestamp"}
    for hand in handwritten():
        monitor = by_name[hand.title]
        expected_kind = "query_level_monitor" if hand.new_terms is None else "bucket_level_monitor"
        assert monitor["monitor_type"] == expected_kind, hand.title
        assert monitor["inputs"][0]["search"]["indices"] == [f"logs-aws_connector.{d[4:]}-*" for d in hand.datasets]
        filters = monitor["inputs"][0]["search"]["query"]["query"]["bool"]["filter"]
        assert filters[0] == {"query_string": {"query": hand.base_query}}
    for stem in monitors:
        assert re.fullmatch(r"[a-z0-9_]+", stem)


def test_monitor_bodies_have_the_shape_alerting_reads(monitors: dict[str, dict[str, Any]]) -> None:
    levels = {d.title: d.level for d in [*convert("lucene").detections, *handwritten()]}
    for monitor in monitors.values():
        assert monitor["type"] == "monitor"
        assert monitor["enabled"] is False
        assert monitor["schedule"] == {"period": {"interval": 5, "unit": "MINUTES"}}
        ((kind, trigger),) = monitor["triggers"][0].items()
        assert len(monitor["triggers"]) == 1
        assert trigger["severity"] == {"critical": "1", "high": "1", "medium": "2", "low": "3",
                                       "informational": "4"}[levels[monitor["name"]]]
        assert trigger["actions"] == []
        search = monitor["inputs"][0]["search"]["query"]
        time_range = search["query"]["bool"]["filter"][1]["range"]["@timestamp"]
        assert time_range["lte"] == "{{period_end}}" and time_range["format"] == "epoch_millis"
        if kind == "query_level_trigger":
            assert monitor["monitor_type"] == "query_level_monitor"
            assert time_range["gte"] == "{{period_end}}||-10m"
            assert trigger["condition"]["script"] == {"source": "ctx.results[0].hits.total.value > 0",
                                                      "lang": "painless"}
        else:
            assert kind == "bucket_level_trigger" and monitor["monitor_type"] == "bucket_level_monitor"
            condition = trigger["condition"]
            assert condition["parent_bucket_path"] in search["aggregations"]
            assert "composite" in search["aggregations"][condition["parent_bucket_path"]]
            assert condition["script"]["lang"] == "painless"
            assert all(re.search(rf"\bparams\.{name}\b", condition["script"]["source"])
                       for name in condition["buckets_path"])


def test_counting_monitors_carry_each_rule_threshold(monitors: dict[str, dict[str, Any]]) -> None:
    by_name = {m["name"]: m for m in monitors.values()}
    for detection in convert("lucene").detections:
        threshold = detection.threshold
        if threshold is None:
            continue
        monitor = by_name[detection.title]
        groups = monitor["inputs"][0]["search"]["query"]["aggregations"]["groups"]
        sources = groups["composite"]["sources"]
        assert sources[0] == {"timespan": {"date_histogram": {"field": "@timestamp",
                                                              "fixed_interval": threshold.timespan}}}
        assert [next(iter(s)) for s in sources[1:]] == list(threshold.group_by)
        condition = monitor["triggers"][0]["bucket_level_trigger"]["condition"]
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}[threshold.operator]
        if threshold.kind == "value_count":
            assert groups["aggs"]["distinct_values"]["cardinality"]["field"] == threshold.field
            assert condition["script"]["source"] == f"params.distinct_values {sign} {threshold.count}"
        else:
            assert condition["buckets_path"] == {"_count": "_count"}
            assert condition["script"]["source"] == f"params._count {sign} {threshold.count}"


def _monitor_fields(monitor: dict[str, Any]) -> Iterator[tuple[str, frozenset[str] | None]]:
    search = monitor["inputs"][0]["search"]["query"]
    for clause in search["query"]["bool"]["filter"]:
        if "query_string" in clause:
            yield from ((f, None) for f in lucene_fields(clause["query_string"]["query"]))
        else:
            yield from ((f, frozenset({"date"})) for f in clause["range"])

    def walk(node: Any) -> Iterator[tuple[str, frozenset[str] | None]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("terms", "cardinality"):
                    yield value["field"], TERMS_TYPES
                elif key in ("min", "date_histogram") or (key == "range" and isinstance(value, dict)):
                    yield from ((f, frozenset({"date"})) for f in ([value["field"]] if "field" in value else value))
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(search.get("aggregations", {}))


def test_every_field_a_monitor_names_is_mapped_with_the_type_it_needs(monitors: dict[str, dict[str, Any]]) -> None:
    problems = []
    for stem, monitor in monitors.items():
        for pattern in monitor["inputs"][0]["search"]["indices"]:
            problems += [f"{stem}: {p}" for f, allowed in _monitor_fields(monitor)
                         if (p := _field_problem(pattern, f, allowed))]
    assert not problems, "\n".join(problems)


def test_committed_files_equal_what_content_build_writes() -> None:
    wanted = {path: body for path, body in build.rendered().items()
              if path.startswith((build.OPENSEARCH_DASHBOARDS_SAVED_OBJECTS, build.OPENSEARCH_MONITORS_DIR + "/"))}
    assert build.OPENSEARCH_DASHBOARDS_SAVED_OBJECTS in wanted
    stale = [path for path, body in sorted(wanted.items())
             if not (DEPLOY / path).is_file() or (DEPLOY / path).read_bytes() != body]
    extra = [p.name for p in sorted((DEPLOY / build.OPENSEARCH_MONITORS_DIR).glob("*.json"))
             if f"{build.OPENSEARCH_MONITORS_DIR}/{p.name}" not in wanted]
    assert not stale and not extra, f"run `aws-siem-connector content build`: stale {stale}, extra {extra}"
