"""The OpenSearch Dashboards objects and the Alerting monitors on the labeled demo day, in real
OpenSearch (these tests are collected for the OpenSearch server only).

Each saved search and visualization runs its exact Lucene query through ``query_string`` on its
index pattern (narrowed to the namespace ``labeled``) with the aggregation the panel draws, and
must show what ``dashboards.yml`` expects. The test distribution has no ``geo`` module, so a
coordinate map's ``geohash_grid`` cannot run there: its query runs with the ``geo_centroid`` the
map asks for per cell, over all its points.

Each monitor's search input runs as it is, but for its time ranges (the whole demo day instead of
the last minutes before the run) and its index pattern (narrowed likewise); its trigger is then
evaluated as Alerting does: a query-level trigger fires on any hit, a bucket-level trigger keeps
the buckets (every page of the composite aggregation) whose ``buckets_path`` values satisfy its
condition. The findings must equal the demo's labels. The test distribution has no Alerting
plugin (nor Painless), so the monitor API itself is checked by structure only
(``tests/content/test_opensearch_content.py``) and the trigger conditions by the reading below.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from connector.content import definitions, opensearch_dashboards, opensearch_monitors
from connector.content.definitions import Expectation, content
from connector.demo.estate import DemoManifest
from connector.detections import convert, handwritten
from tests.conftest import Report
from tests.search.conftest import LABELED
from tests.servers.search_cluster import SearchCluster, http_json

pytestmark = pytest.mark.integration
# The session's cluster fixture is parametrized over both servers; these tests take OpenSearch alone.
opensearch_only = pytest.mark.parametrize("search_cluster", ["opensearch"], indirect=True)

_CLAUSE = re.compile(r"\s*params\.(\w+)\s*(>=|<=|==|>|<)\s*(?:params\.(\w+)|(-?\d+(?:\.\d+)?))\s*")
_COMPARE = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, "==": lambda a, b: a == b}


def _labeled(pattern: str) -> str:
    """An index pattern narrowed to the labeled namespace: ``logs-x.vpcflow-*`` -> ``...-labeled``."""
    assert pattern.endswith("-*"), pattern
    return pattern[:-1] + LABELED


def _day_range(day: dt.date) -> dict[str, str]:
    return {"gte": f"{day.isoformat()}T00:00:00Z", "lt": f"{(day + dt.timedelta(days=1)).isoformat()}T00:00:00Z"}


def _search(cluster: SearchCluster, index: str, body: dict[str, Any]) -> dict[str, Any]:
    result = http_json("POST", f"{cluster.url}/{index}/_search", body)
    assert isinstance(result, dict) and "error" not in result, (index, result)
    return result


# --- saved searches and visualizations ---------------------------------------------------------

def _vis_aggregations(vis_state: dict[str, Any]) -> dict[str, Any]:
    """The request the visualization makes: its bucket aggregations nested in their order, each
    level carrying the metric (agg 1) that orders its terms."""
    metric, *buckets = vis_state["aggs"]
    metrics = {"1": {"sum": {"field": metric["params"]["field"]}}} if metric["type"] == "sum" else {}
    aggs: dict[str, Any] = dict(metrics)
    for agg in reversed(buckets):
        params = agg["params"]
        if agg["type"] == "terms":
            order = {"1" if metrics else "_count": params["order"]}
            bucket: dict[str, Any] = {"terms": {"field": params["field"], "size": params["size"], "order": order}}
        elif agg["type"] == "date_histogram":
            bucket = {"date_histogram": {"field": params["field"], "fixed_interval": params["interval"],
                                         "min_doc_count": params["min_doc_count"]}}
        else:
            assert agg["type"] == "geohash_grid", agg
            # No geo module on the test distribution: the centroid each cell also asks for, over all.
            bucket = {"geo_centroid": {"field": params["field"]}}
        if aggs and "geo_centroid" not in bucket:
            bucket["aggs"] = aggs
        aggs = {agg["id"]: bucket, **metrics}
    return aggs


def _top_terms(vis_state: dict[str, Any], aggregations: dict[str, Any]) -> list[str]:
    """The values of the outermost terms aggregation (a bar's or table's first field, a line's split)."""
    first = next((a for a in vis_state["aggs"] if a["type"] == "terms"), None)
    return [] if first is None else [str(b["key"]) for b in aggregations[first["id"]]["buckets"]]


def _run_object(cluster: SearchCluster, obj: dict[str, Any], pattern: str,
                day: dt.date) -> tuple[int, list[str], str]:
    """Hits, top terms and (for a map) where its points lie."""
    source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert source["query"]["language"] == "lucene"
    body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": [
        {"query_string": {"query": source["query"]["query"]}}, {"range": {"@timestamp": _day_range(day)}}]}}}
    vis_state = json.loads(obj["attributes"]["visState"]) if obj["type"] == "visualization" else None
    if vis_state is not None:
        body["aggs"] = _vis_aggregations(vis_state)
    result = _search(cluster, _labeled(pattern), body)
    hits = int(result["hits"]["total"]["value"])
    if vis_state is None:
        return hits, [], ""
    if vis_state["type"] == "tile_map":
        centroid = result["aggregations"]["2"]
        assert centroid.get("count") == hits, (obj["id"], centroid)
        where = centroid.get("location", {})
        return hits, [], f"centroid {where.get('lat', 0):.0f},{where.get('lon', 0):.0f}" if where else ""
    return hits, _top_terms(vis_state, result["aggregations"]), ""


def _expectations() -> dict[str, Expectation]:
    declared = content()
    wanted = {f"aws-connector-search-{s.id}": s.expect for s in declared.searches}
    wanted |= {f"aws-connector-{d.id}-{p.id}": p.expect for d in declared.dashboards for p in d.panels}
    return wanted


@opensearch_only
def test_every_saved_search_and_visualization_shows_what_the_yaml_expects(
    labeled_day: tuple[SearchCluster, DemoManifest], report: Report,
) -> None:
    cluster, manifest = labeled_day
    objects = opensearch_dashboards.saved_objects()
    patterns = {o["id"]: o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    wanted = _expectations()
    detection_ids = {definitions.detection_search_id(d.rule_id)
                     for d in [*convert("lucene").detections, *handwritten()]}
    section = f"OpenSearch Dashboards objects on the labeled demo day (opensearch {cluster.version})"
    report.add(section, f"{'type':<13} {'object':<70} {'hits':>6}  top terms / points")
    failures = []
    for obj in objects:
        if obj["type"] not in ("search", "visualization"):
            continue
        (ref,) = obj["references"]
        hits, top, extra = _run_object(cluster, obj, patterns[ref["id"]], manifest.day)
        report.add(section, f"{obj['type']:<13} {obj['id'][:70]:<70} {hits:>6}  {extra or ', '.join(top[:4])}")
        # Every detection's events are planted on the day: its saved search shows them.
        expect = Expectation(at_least=1) if obj["id"] in detection_ids else wanted.pop(obj["id"])
        if hits < max(expect.at_least, 1):
            failures.append(f"{obj['id']}: {hits} hits, expected at least {max(expect.at_least, 1)}")
        missing = [t for t in expect.terms if t not in top]
        if missing:
            failures.append(f"{obj['id']}: {missing} not among the top terms {top}")
    assert not wanted, f"no object for {sorted(wanted)}"
    assert not failures, "\n".join(failures)


# --- monitors ---------------------------------------------------------------------------------

def _with_day(node: Any, day: dt.date) -> Any:
    """The search input with every @timestamp range replaced by the demo day."""
    if isinstance(node, dict):
        if set(node) == {"range"} and set(node["range"]) == {"@timestamp"}:
            return {"range": {"@timestamp": _day_range(day)}}
        return {key: _with_day(value, day) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_day(item, day) for item in node]
    return node


def _path(doc: Any, field: str) -> Any:
    for part in field.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _query_level_findings(cluster: SearchCluster, index: str, search: dict[str, Any],
                          field: str) -> tuple[int, set[str]]:
    """Hits, and the values of ``field`` over all of them (the input's first page holds only a few)."""
    result = _search(cluster, index, search)
    hits = int(result["hits"]["total"]["value"])
    if hits == 0:  # the trigger, ctx.results[0].hits.total.value > 0, does not fire
        return 0, set()
    assert hits <= 10_000, f"{hits} hits: more than one page of findings"
    everything = _search(cluster, index, {**search, "size": hits, "_source": [field]})
    return hits, {str(_path(h["_source"], field)) for h in everything["hits"]["hits"]}


def _bucket_value(bucket: dict[str, Any], path: str) -> float | None:
    """A ``buckets_path`` value of one bucket as Alerting resolves it: a missing or infinite
    metric is a gap (skipped: no value, so no comparison holds)."""
    if path == "_count":
        return float(bucket["doc_count"])
    node: Any = bucket
    for name in path.split(">"):
        node = node[name]
    value = node.get("value")
    return None if value is None or math.isinf(float(value)) else float(value)


def _condition_holds(script: str, values: dict[str, float | None]) -> bool:
    """A Painless condition of ``params.x <op> params.y|number`` clauses joined by ``&&``."""
    for clause in script.split("&&"):
        match = _CLAUSE.fullmatch(clause)
        assert match, f"condition clause not read: {clause!r}"
        left, op, right_name, number = match.groups()
        a, b = values[left], values[right_name] if right_name else float(number)
        if a is None or b is None or not _COMPARE[op](a, b):
            return False
    return True


def _composite_pages(cluster: SearchCluster, index: str, search: dict[str, Any],
                     parent: str) -> Iterator[dict[str, Any]]:
    """Each page of the input's results, following the trigger's composite aggregation as Alerting does."""
    body = copy.deepcopy(search)
    while True:
        page = _search(cluster, index, body)
        yield page
        groups = page["aggregations"][parent]
        if not groups["buckets"] or "after_key" not in groups:
            return
        body["aggregations"][parent]["composite"]["after"] = groups["after_key"]


def _bucket_level_findings(cluster: SearchCluster, index: str, search: dict[str, Any], trigger: dict[str, Any],
                           field: str) -> tuple[int, set[str]]:
    """Hits, and the values of ``field`` in the bucket keys the trigger keeps."""
    condition = trigger["condition"]
    parent = condition["parent_bucket_path"]
    hits, found = 0, set()
    for page in _composite_pages(cluster, index, search, parent):
        hits = int(page["hits"]["total"]["value"])
        for bucket in page["aggregations"][parent]["buckets"]:
            values = {name: _bucket_value(bucket, path) for name, path in condition["buckets_path"].items()}
            if _condition_holds(condition["script"]["source"], values):
                found.add(str(bucket["key"][field]))
    return hits, found


def test_condition_reading_follows_painless_comparisons() -> None:
    assert _condition_holds("params._count >= 5", {"_count": 5.0})
    assert not _condition_holds("params._count > 100", {"_count": 100.0})
    assert _condition_holds("params.a > params.b && params.a >= params.c", {"a": 3.0, "b": 1.0, "c": 3.0})
    assert not _condition_holds("params.a > params.b && params.a >= params.c", {"a": 3.0, "b": 1.0, "c": None})


@opensearch_only
def test_every_monitor_finds_the_labeled_events_on_the_demo_day(
    labeled_day: tuple[SearchCluster, DemoManifest], report: Report,
) -> None:
    cluster, manifest = labeled_day
    rule_ids = {**{d.title: d.rule_id for d in convert("lucene").detections},
                **{h.title: h.rule_id for h in handwritten()}}
    section = f"OpenSearch Alerting monitors on the labeled demo day (opensearch {cluster.version})"
    report.add(section, f"{'monitor':<58} {'kind':<6} {'hits':>7} {'field':<10} {'expected':>8} {'found':>6}")
    failures = []
    for stem, monitor in sorted(opensearch_monitors.monitors().items()):
        label = manifest.labels[rule_ids[monitor["name"]]]
        ((kind, trigger),) = monitor["triggers"][0].items()
        (search_input,) = monitor["inputs"]
        index = ",".join(_labeled(pattern) for pattern in search_input["search"]["indices"])
        search = _with_day(search_input["search"]["query"], manifest.day)
        assert search != search_input["search"]["query"], f"{stem}: no time range replaced"
        if kind == "query_level_trigger":
            hits, found = _query_level_findings(cluster, index, search, label.field)
        else:
            hits, found = _bucket_level_findings(cluster, index, search, trigger, label.field)
        report.add(section, f"{monitor['name'][:58]:<58} {kind.split('_')[0]:<6} {hits:>7} {label.field:<10} "
                            f"{len(label.expected):>8} {len(found):>6}")
        assert label.expected, f"{stem}: no true positive planted"
        if found != label.expected:
            failures.append(f"{stem}: missed {sorted(label.expected - found)[:5]}, "
                            f"false positives {sorted(found - label.expected)[:5]}")
    assert not failures, "\n".join(failures)
