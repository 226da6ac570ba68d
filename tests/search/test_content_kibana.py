"""Every Kibana saved search, Lens visualization and map on the labeled demo day, in real
Elasticsearch and OpenSearch: the exact query string the object carries runs through
``query_string`` on its data view's pattern (namespace ``labeled``), with the aggregation the panel
draws (terms, date histogram, sum; a map's points and their geo bounds), and shows what its source expects: at least N
documents, the expected values among its top terms. The summary prints object -> hits."""

from __future__ import annotations

from typing import Any

import pytest

from connector.content import kibana
from connector.demo.estate import DemoManifest
from tests.conftest import Report
from tests.content.kibana_objects import (
    QUERYING,
    by_id,
    data_view_ref,
    expectations,
    lens_layers,
    map_documents_layer,
    query_of,
)
from tests.search.conftest import LABELED
from tests.servers.search_cluster import SearchCluster, http_json

pytestmark = pytest.mark.integration
# The most documents a Maps documents layer draws (its "limit" scaling).
MAP_POINTS_LIMIT = 10_000


def _pattern(view_title: str) -> str:
    """The data view's pattern narrowed to the labeled namespace: ``logs-x.vpcflow-*`` -> ``...-labeled``."""
    assert view_title.endswith("-*"), view_title
    return view_title[:-1] + LABELED


def _lens_aggregations(obj: dict[str, Any]) -> dict[str, Any]:
    """The aggregation Lens runs for a form-based layer: bucket columns nested outside in, each level
    carrying the metrics (so a terms column can be ordered by one)."""
    (layer,) = lens_layers(obj).values()
    columns = {cid: layer["columns"][cid] for cid in layer["columnOrder"]}
    metrics = {cid: {"sum": {"field": c["sourceField"]}} for cid, c in columns.items()
               if not c["isBucketed"] and c["operationType"] == "sum"}
    aggs: dict[str, Any] = dict(metrics)
    for cid, column in reversed([(cid, c) for cid, c in columns.items() if c["isBucketed"]]):
        if column["operationType"] == "date_histogram":
            bucket: dict[str, Any] = {"date_histogram": {"field": column["sourceField"],
                                                         "fixed_interval": column["params"]["interval"]}}
        else:
            order_by = column["params"]["orderBy"]["columnId"]
            order = {"_count" if order_by not in metrics else order_by: column["params"]["orderDirection"]}
            bucket = {"terms": {"field": column["sourceField"], "size": column["params"]["size"], "order": order}}
        if aggs:
            bucket["aggs"] = aggs
        aggs = {cid: bucket, **metrics}
    return aggs


def _top_terms(obj: dict[str, Any], aggregations: dict[str, Any]) -> list[str]:
    """The values of the outermost terms column (a bar's or table's first field, a line's split)."""
    (layer,) = lens_layers(obj).values()
    first = next((cid for cid in layer["columnOrder"] if layer["columns"][cid]["operationType"] == "terms"), None)
    if first is None:
        return []
    return [str(b["key"]) for b in aggregations[first]["buckets"]]


def _path(doc: Any, field: str) -> Any:
    """The value at a dotted path of a document's source, or None; through an array of objects
    (``threat.enrichments``), the list of its members' values, as a Maps tooltip shows them."""
    parts = field.split(".")
    for n, part in enumerate(parts):
        if isinstance(doc, list):
            values = [v for item in doc if (v := _path(item, ".".join(parts[n:]))) is not None]
            return values or None
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _map_points(obj: dict[str, Any], result: dict[str, Any]) -> str:
    """The bounds of the points the layer draws, and each tooltip field present on some point."""
    source = map_documents_layer(obj)["sourceDescriptor"]
    docs = [hit["_source"] for hit in result["hits"]["hits"]]
    points = [_path(doc, source["geoField"]) for doc in docs]
    assert all(isinstance(p, dict) and {"lat", "lon"} <= set(p) for p in points), (obj["id"], points[:3])
    silent = [f for f in source["tooltipProperties"] if docs and all(_path(d, f) is None for d in docs)]
    assert not silent, f"{obj['id']}: no point has the tooltip fields {silent}"
    if not points:
        return "no points"
    lats, lons = [float(p["lat"]) for p in points], [float(p["lon"]) for p in points]
    return f"{len(points)} points in {max(lats):.0f},{min(lons):.0f} .. {min(lats):.0f},{max(lons):.0f}"


def _run(cluster: SearchCluster, obj: dict[str, Any], index: str) -> tuple[int, list[str], str]:
    """Hits, top terms and what else the object's aggregation showed."""
    query = query_of(obj)
    assert query["language"] == "lucene"
    body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": {"query_string": {"query": query["query"]}}}
    if obj["type"] == "lens":
        body["aggs"] = _lens_aggregations(obj)
    elif obj["type"] == "map":
        # What a documents layer fetches: up to Maps' limit of points, newest first, with the
        # tooltip fields; geo_bounds where the server has it (OpenSearch's test distribution
        # leaves out the geo module).
        source = map_documents_layer(obj)["sourceDescriptor"]
        body |= {"size": MAP_POINTS_LIMIT, "sort": [{source["sortField"]: source["sortOrder"]}],
                 "_source": [source["geoField"], *source["tooltipProperties"]]}
        if cluster.kind == "elasticsearch":
            body["aggs"] = {"bounds": {"geo_bounds": {"field": source["geoField"]}}}
    else:  # Discover: the newest document first
        body |= {"size": 1, "sort": [{"@timestamp": "desc"}]}
    result = http_json("POST", f"{cluster.url}/{index}/_search", body)
    assert isinstance(result, dict) and "error" not in result, (obj["id"], result)
    hits = int(result["hits"]["total"]["value"])
    if obj["type"] == "lens":
        return hits, _top_terms(obj, result["aggregations"]), ""
    if obj["type"] == "map":
        if "aggregations" in result:
            assert hits == 0 or result["aggregations"]["bounds"].get("bounds"), (obj["id"], result["aggregations"])
        return hits, [], _map_points(obj, result)
    return hits, [], ""


def test_every_search_and_panel_shows_what_its_source_expects_on_the_labeled_day(
    labeled_day: tuple[SearchCluster, DemoManifest], report: Report,
) -> None:
    cluster, _ = labeled_day
    objects = by_id(kibana.saved_objects())
    wanted = expectations()
    section = f"Kibana saved objects on the labeled demo day ({cluster.kind} {cluster.version})"
    report.add(section, f"{'type':<7} {'object':<64} {'hits':>6}  top terms / bounds")
    failures = []
    for obj in objects.values():
        if obj["type"] not in QUERYING:
            continue
        index = _pattern(objects[data_view_ref(obj)["id"]]["attributes"]["title"])
        hits, top, extra = _run(cluster, obj, index)
        expect = wanted[obj["id"]]
        shown = extra or ", ".join(top[:4])
        report.add(section, f"{obj['type']:<7} {obj['id'][:64]:<64} {hits:>6}  {shown}")
        if hits < max(expect.at_least, 1):
            failures.append(f"{obj['id']}: {hits} hits, expected at least {max(expect.at_least, 1)}")
        missing = [t for t in expect.terms if t not in top]
        if missing:
            failures.append(f"{obj['id']}: {missing} not among the top terms {top}")
    assert not failures, "\n".join(failures)
