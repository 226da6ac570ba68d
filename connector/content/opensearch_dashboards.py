"""OpenSearch Dashboards saved objects for the dashboards, saved searches and detections.

``saved_objects()`` makes, from ``mappings/content/dashboards.yml`` and the bundled detections:
an ``index-pattern`` per data view, a ``search`` per saved search and per detection (the events
its Lucene query matches; for the hand-written detection, the events it compares), a
``visualization`` per panel and a ``dashboard`` per dashboard. Ids are those of the Kibana objects
made from the same sources. The file they are written
to imports with ``POST /api/saved_objects/_import`` into OpenSearch Dashboards 2.x and 3.x.

Map panels become coordinate maps (``tile_map``): a count per geohash cell of the panel's
``geo_field``. A coordinate map shows a cell's count, not the fields of the documents in it, so
the YAML's ``tooltip`` fields have no place there.
"""

from __future__ import annotations

import json
from typing import Any

from connector.content.definitions import (
    Dashboard,
    DataView,
    Panel,
    content,
    dashboard_id,
    data_view_id,
    detection_searches,
    panel_id,
    search_id,
)

# The newest migration each type has in OpenSearch Dashboards (its saved objects still carry the
# versions of the Kibana 7.10 it started from): an object stamped so is imported as it is.
MIGRATION_VERSIONS = {"index-pattern": "7.6.0", "search": "7.9.3", "visualization": "7.10.0", "dashboard": "7.9.3"}
# A dashboard panel of 7.3 or newer needs no panel migration.
PANEL_VERSION = "7.10.2"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
TIME_FIELD = "@timestamp"
GRID_COLUMNS = 48
PANEL_WIDTH, PANEL_HEIGHT = 24, 15
def saved_objects() -> list[dict[str, Any]]:
    """Every object, the index patterns first and each dashboard after its visualizations."""
    declared = content()
    objects = [_index_pattern(view) for view in declared.data_views.values()]
    objects += [_search(search_id(s.id), s.title, "", s.data_view, s.query, s.columns) for s in declared.searches]
    objects += [_search(d.object_id, d.title, d.description, d.data_view, d.query, d.columns)
                for d in detection_searches()]
    for dashboard in declared.dashboards:
        objects += [_visualization(dashboard, panel) for panel in dashboard.panels]
        objects.append(_dashboard(dashboard))
    return objects


def _saved_object(kind: str, object_id: str, attributes: dict[str, Any],
                  references: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": kind, "id": object_id, "attributes": attributes, "references": references,
            "migrationVersion": {kind: MIGRATION_VERSIONS[kind]}}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _search_source(query: str) -> dict[str, str]:
    """The Lucene query over the referenced index pattern, as a saved search or visualization keeps it."""
    source = {"query": {"query": query, "language": "lucene"}, "filter": [], "indexRefName": INDEX_REF}
    return {"searchSourceJSON": _json(source)}


def _index_reference(view: DataView) -> list[dict[str, str]]:
    return [{"name": INDEX_REF, "type": "index-pattern", "id": data_view_id(view)}]


def _index_pattern(view: DataView) -> dict[str, Any]:
    # No field list: Dashboards reads the fields from the cluster when it first opens the pattern.
    return _saved_object("index-pattern", data_view_id(view), {"title": view.title, "timeFieldName": TIME_FIELD}, [])


def _search(object_id: str, title: str, description: str, view: DataView, query: str,
            columns: tuple[str, ...]) -> dict[str, Any]:
    attributes = {"title": title, "description": description, "hits": 0, "columns": list(columns),
                  "sort": [[TIME_FIELD, "desc"]], "version": 1, "kibanaSavedObjectMeta": _search_source(query)}
    return _saved_object("search", object_id, attributes, _index_reference(view))


def _metric_label(panel: Panel) -> str:
    return f"Sum of {panel.metric_field}" if panel.metric_field else "Count"


def _metric_agg(panel: Panel) -> dict[str, Any]:
    if panel.metric_field:
        return {"id": "1", "enabled": True, "type": "sum", "schema": "metric", "params": {"field": panel.metric_field}}
    if panel.metric != "count":
        raise ValueError(f"panel {panel.id}: metric {panel.metric!r} is neither count nor sum:<field>")
    return {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}


def _terms_agg(agg_id: int, field: str, size: int, schema: str) -> dict[str, Any]:
    """Top values of ``field`` ordered by the metric (agg 1)."""
    params = {"field": field, "size": size, "order": "desc", "orderBy": "1", "otherBucket": False,
              "otherBucketLabel": "Other", "missingBucket": False, "missingBucketLabel": "Missing"}
    return {"id": str(agg_id), "enabled": True, "type": "terms", "schema": schema, "params": params}


def _point_series_params(chart: str, panel: Panel) -> dict[str, Any]:
    """The axes and series of a vislib line or horizontal bar chart with the panel's one metric."""
    horizontal = chart == "histogram"
    label = _metric_label(panel)
    category_axis = {"id": "CategoryAxis-1", "type": "category", "position": "left" if horizontal else "bottom",
                     "show": True, "style": {}, "scale": {"type": "linear"},
                     "labels": {"show": True, "filter": not horizontal, "truncate": 200 if horizontal else 100},
                     "title": {}}
    value_axis = {"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value",
                  "position": "bottom" if horizontal else "left", "show": True, "style": {},
                  "scale": {"type": "linear", "mode": "normal"},
                  "labels": {"show": True, "rotate": 75 if horizontal else 0, "filter": horizontal, "truncate": 100},
                  "title": {"text": label}}
    series = {"show": True, "type": chart, "mode": "normal", "data": {"label": label, "id": "1"},
              "valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": True, "lineWidth": 2, "showCircles": True}
    if chart == "line":
        series["interpolate"] = "linear"
    return {"type": chart, "grid": {"categoryLines": False}, "categoryAxes": [category_axis],
            "valueAxes": [value_axis], "seriesParams": [series], "addTooltip": True, "addLegend": True,
            "legendPosition": "right", "times": [], "addTimeMarker": False, "labels": {},
            "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"}}


def _vis_state(panel: Panel) -> dict[str, Any]:
    """The visualization type, its display parameters and its aggregations (agg 1 is the metric)."""
    metric = _metric_agg(panel)
    if panel.type == "map":
        geohash = {"id": "2", "enabled": True, "type": "geohash_grid", "schema": "segment",
                   "params": {"field": panel.geo_field, "autoPrecision": True, "precision": 2,
                              "useGeocentroid": True, "isFilteredByCollar": True}}
        params = {"mapType": "Scaled Circle Markers", "isDesaturated": True, "addTooltip": True,
                  "colorSchema": "Yellow to Red", "heatClusterSize": 1.5, "legendPosition": "bottomright",
                  "mapZoom": 2, "mapCenter": [0, 0],
                  "wms": {"enabled": False, "options": {"format": "image/png", "transparent": True}}}
        return {"type": "tile_map", "params": params, "aggs": [metric, geohash]}
    if panel.type == "line":
        # The split goes first, so its top values are those of the whole range, not of one interval.
        aggs = [metric, *([_terms_agg(2, panel.split, 10, "group")] if panel.split else [])]
        aggs.append({"id": str(len(aggs) + 1), "enabled": True, "type": "date_histogram", "schema": "segment",
                     "params": {"field": TIME_FIELD, "interval": panel.interval or "auto", "min_doc_count": 1,
                                "extended_bounds": {}}})
        return {"type": "line", "params": _point_series_params("line", panel), "aggs": aggs}
    if panel.type == "bar":
        # The first field is the axis; any further one splits the bars into series.
        aggs = [metric, *(_terms_agg(i + 2, f, panel.size, "group" if i else "segment")
                          for i, f in enumerate(panel.terms))]
        return {"type": "horizontal_bar", "params": _point_series_params("histogram", panel), "aggs": aggs}
    if panel.type == "table":
        aggs = [metric, *(_terms_agg(i + 2, f, panel.size, "bucket") for i, f in enumerate(panel.terms))]
        params = {"perPage": panel.size, "showPartialRows": False, "showMetricsAtAllLevels": False,
                  "showTotal": False, "totalFunc": "sum", "percentageCol": ""}
        return {"type": "table", "params": params, "aggs": aggs}
    params = {"addTooltip": True, "addLegend": False, "type": "metric",
              "metric": {"percentageMode": False, "useRanges": False, "colorSchema": "Green to Red",
                         "metricColorMode": "None", "colorsRange": [{"from": 0, "to": 10000}],
                         "labels": {"show": True}, "invertColors": False,
                         "style": {"bgFill": "#000", "bgColor": False, "labelColor": False, "subText": "",
                                   "fontSize": 60}}}
    return {"type": "metric", "params": params, "aggs": [metric]}


def _visualization(dashboard: Dashboard, panel: Panel) -> dict[str, Any]:
    vis_state = {"title": panel.title, **_vis_state(panel)}
    attributes = {"title": panel.title, "description": "", "version": 1, "uiStateJSON": "{}",
                  "visState": _json(vis_state), "kibanaSavedObjectMeta": _search_source(panel.query)}
    return _saved_object("visualization", panel_id(dashboard, panel), attributes,
                         _index_reference(dashboard.data_view))


def _dashboard(dashboard: Dashboard) -> dict[str, Any]:
    """Two panels a row, in the YAML's order; each panel refers to its visualization by reference name."""
    per_row = GRID_COLUMNS // PANEL_WIDTH
    panels, references = [], []
    for i, panel in enumerate(dashboard.panels):
        grid = {"x": (i % per_row) * PANEL_WIDTH, "y": (i // per_row) * PANEL_HEIGHT, "w": PANEL_WIDTH,
                "h": PANEL_HEIGHT, "i": str(i + 1)}
        panels.append({"version": PANEL_VERSION, "gridData": grid, "panelIndex": str(i + 1), "embeddableConfig": {},
                       "panelRefName": f"panel_{i}"})
        references.append({"name": f"panel_{i}", "type": "visualization", "id": panel_id(dashboard, panel)})
    attributes = {"title": dashboard.title, "description": dashboard.description, "hits": 0, "version": 1,
                  "panelsJSON": _json(panels), "optionsJSON": _json({"hidePanelTitles": False, "useMargins": True}),
                  "timeRestore": False,
                  "kibanaSavedObjectMeta": {"searchSourceJSON": _json({"query": {"query": "", "language": "lucene"},
                                                                       "filter": []})}}
    return _saved_object("dashboard", dashboard_id(dashboard), attributes, references)
