"""The Kibana saved objects of the SOC content: data views, saved searches (Discover sessions), Lens
visualizations, Maps and dashboards, for ``POST /api/saved_objects/_import``.

Everything comes from ``mappings/content/dashboards.yml`` and the bundled detections (one saved
search per detection: its Lucene query, or a counting rule's base query with the threshold in the
description). Ids derive from the source ids, so a re-import overwrites the same objects.

Each object carries the migration version of the format written here (``coreMigrationVersion``
8.8.0; lens and dashboard 8.9.0, map 8.4.0, search and index-pattern 8.0.0), so Kibana 8.9 and
later, 9.x included, migrate them on import to their own version.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
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
from connector.detections.catalogue import DATASETS, catalogue

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {
    "index-pattern": "8.0.0",
    "search": "8.0.0",
    "lens": "8.9.0",
    "map": "8.4.0",
    "dashboard": "8.9.0",
}
QUERY_LANGUAGE = "lucene"
TIME_FIELD = "@timestamp"
# The reference a saved search's searchSourceJSON names its data view by.
SEARCH_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
# The documents layer is the second of a map (after the base map); Maps names its data view
# reference after the layer's position.
MAP_INDEX_REF = "layer_1_source_index_pattern"
LENS_LAYER = "main"
LENS_RECORDS_FIELD = "___records___"  # Lens's stand-in field of a document count
GRID_COLUMNS = 48  # a dashboard's width in grid units
# (width, height) of a panel on the dashboard grid, by panel type.
PANEL_SIZES = {"map": (24, 15), "line": (24, 15), "bar": (24, 15), "table": (24, 15), "metric": (12, 8)}
_NUMERIC = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                      "unsigned_long"})
_LENS_DATA_TYPES = {"ip": "ip", "date": "date", "boolean": "boolean"}


def saved_objects() -> list[dict[str, Any]]:
    """Every saved object, data views first, each dashboard after the panels it shows."""
    declared = content()
    objects = [_data_view(view) for view in declared.data_views.values()]
    objects += [_search(search_id(s.id), s.title, "", s.data_view, s.query, s.columns) for s in declared.searches]
    objects += _detection_searches()
    for dashboard in declared.dashboards:
        panels = [_map(dashboard, p) if p.type == "map" else _lens(dashboard, p) for p in dashboard.panels]
        objects += panels
        objects.append(_dashboard(dashboard, panels))
    return objects


def _saved_object(kind: str, oid: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "type": kind,
        "id": oid,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[kind],
        "managed": False,
    }


def _json(value: Any) -> str:
    """A JSON-valued attribute (searchSourceJSON, panelsJSON, layerListJSON ...) as Kibana stores it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _reference(name: str, kind: str, oid: str) -> dict[str, str]:
    return {"name": name, "type": kind, "id": oid}


def _data_view(view: DataView) -> dict[str, Any]:
    attributes = {"title": view.title, "name": view.name, "timeFieldName": TIME_FIELD}
    return _saved_object("index-pattern", data_view_id(view), attributes, [])


def _query(query: str) -> dict[str, str]:
    return {"query": query, "language": QUERY_LANGUAGE}


def _search(oid: str, title: str, description: str, view: DataView, query: str,
            columns: tuple[str, ...]) -> dict[str, Any]:
    source = {"query": _query(query), "filter": [], "indexRefName": SEARCH_INDEX_REF}
    attributes = {
        "title": title,
        "description": description,
        "columns": list(columns),
        "sort": [[TIME_FIELD, "desc"]],
        "grid": {},
        "hideChart": False,
        "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _json(source)},
    }
    return _saved_object("search", oid, attributes, [_reference(SEARCH_INDEX_REF, "index-pattern",
                                                                data_view_id(view))])


def _detection_searches() -> list[dict[str, Any]]:
    """One Discover session per bundled detection."""
    return [_search(d.object_id, d.title, d.description, d.data_view, d.query, d.columns)
            for d in detection_searches()]


def field_type(view: DataView, field: str) -> str:
    """The mapping type of ``field`` in the documents ``view`` covers (the first dataset that maps it)."""
    for dataset in DATASETS:
        if fnmatchcase(f"logs-aws_connector.{dataset.removeprefix('aws.')}-default", view.title):
            kind = catalogue(dataset).type_of(field)
            if kind is not None:
                return kind
    raise ValueError(f"no index template of data view {view.title} maps the field {field!r}")


def _lens_data_type(view: DataView, field: str) -> str:
    kind = field_type(view, field)
    return "number" if kind in _NUMERIC else _LENS_DATA_TYPES.get(kind, "string")


def _metric_column(view: DataView, panel: Panel) -> dict[str, Any]:
    summed = panel.metric_field
    if summed is not None:
        return {"label": f"Sum of {summed}", "dataType": "number", "operationType": "sum", "sourceField": summed,
                "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}}
    if panel.metric != "count":
        raise ValueError(f"panel {panel.id}: metric {panel.metric!r} is neither count nor sum:<field>")
    return {"label": "Count of records", "dataType": "number", "operationType": "count",
            "sourceField": LENS_RECORDS_FIELD, "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}}


def _terms_column(view: DataView, field: str, size: int, order_by: str) -> dict[str, Any]:
    return {
        "label": f"Top {size} values of {field}",
        "dataType": _lens_data_type(view, field),
        "operationType": "terms",
        "sourceField": field,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc",
                   "otherBucket": False, "missingBucket": False, "parentFormat": {"id": "terms"},
                   "include": [], "exclude": [], "includeIsRegex": False, "excludeIsRegex": False},
    }


def _time_column(interval: str) -> dict[str, Any]:
    return {"label": TIME_FIELD, "dataType": "date", "operationType": "date_histogram", "sourceField": TIME_FIELD,
            "isBucketed": True, "scale": "interval",
            "params": {"interval": interval, "includeEmptyRows": True, "dropPartials": False}}


def _xy(series: str, x: str, metric: str, split: str | None) -> dict[str, Any]:
    layer: dict[str, Any] = {"layerId": LENS_LAYER, "layerType": "data", "seriesType": series,
                             "xAccessor": x, "accessors": [metric]}
    if split is not None:
        layer["splitAccessor"] = split
    return {"preferredSeriesType": series, "layers": [layer], "legend": {"isVisible": True, "position": "right"},
            "valueLabels": "hide", "fittingFunction": "None"}


def _lens_layout(view: DataView, panel: Panel) -> tuple[str, dict[str, dict[str, Any]], dict[str, Any]]:
    """The Lens visualization type, its columns (in aggregation order: buckets outside in, then the
    metric) and its visualization state."""
    metric = "metric"
    columns: dict[str, dict[str, Any]] = {}
    if panel.type == "line":
        if panel.interval is None:
            raise ValueError(f"panel {panel.id}: a line needs an interval")
        if panel.split is not None:
            columns["split"] = _terms_column(view, panel.split, panel.size, metric)
        columns["time"] = _time_column(panel.interval)
        columns[metric] = _metric_column(view, panel)
        return "lnsXY", columns, _xy("line", "time", metric, "split" if panel.split else None)
    if panel.type == "bar":
        if len(panel.terms) != 1:
            raise ValueError(f"panel {panel.id}: a bar needs exactly one terms field")
        columns["terms-0"] = _terms_column(view, panel.terms[0], panel.size, metric)
        columns[metric] = _metric_column(view, panel)
        return "lnsXY", columns, _xy("bar_horizontal", "terms-0", metric, None)
    if panel.type == "table":
        if not panel.terms:
            raise ValueError(f"panel {panel.id}: a table needs at least one terms field")
        for n, field in enumerate(panel.terms):
            columns[f"terms-{n}"] = _terms_column(view, field, panel.size, metric)
        columns[metric] = _metric_column(view, panel)
        table = {"layerId": LENS_LAYER, "layerType": "data",
                 "columns": [{"columnId": c, "isTransposed": False} for c in columns],
                 "sorting": {"columnId": metric, "direction": "desc"}}
        return "lnsDatatable", columns, table
    if panel.type == "metric":
        columns[metric] = _metric_column(view, panel)
        return "lnsMetric", columns, {"layerId": LENS_LAYER, "layerType": "data", "metricAccessor": metric}
    raise ValueError(f"panel {panel.id}: a {panel.type} panel is not a Lens visualization")


def _lens(dashboard: Dashboard, panel: Panel) -> dict[str, Any]:
    view = dashboard.data_view
    vis_type, columns, visualization = _lens_layout(view, panel)
    layer = {"columnOrder": list(columns), "columns": columns, "incompleteColumns": {}, "sampling": 1,
             "ignoreGlobalFilters": False}
    state = {
        "datasourceStates": {"formBased": {"layers": {LENS_LAYER: layer}}},
        "visualization": visualization,
        "query": _query(panel.query),
        "filters": [],
        "internalReferences": [],
        "adHocDataViews": {},
    }
    attributes = {"title": panel.title, "description": "", "visualizationType": vis_type, "state": state}
    reference = _reference(f"indexpattern-datasource-layer-{LENS_LAYER}", "index-pattern", data_view_id(view))
    return _saved_object("lens", panel_id(dashboard, panel), attributes, [reference])


def _static(option: str, value: object) -> dict[str, Any]:
    return {"type": "STATIC", "options": {option: value}}


def _points_style(color: str) -> dict[str, Any]:
    """Circles of one colour, drawn only for the documents in the dashboard's time range."""
    return {
        "type": "VECTOR",
        "isTimeAware": True,
        "properties": {
            "fillColor": _static("color", color),
            "lineColor": _static("color", "#FFFFFF"),
            "lineWidth": _static("size", 1),
            "iconSize": _static("size", 6),
            "icon": _static("value", "marker"),
            "iconOrientation": _static("orientation", 0),
            "symbolizeAs": {"options": {"value": "circle"}},
            "labelText": _static("value", ""),
            "labelColor": _static("color", "#000000"),
            "labelSize": _static("size", 14),
            "labelBorderColor": _static("color", "#FFFFFF"),
            "labelBorderSize": {"options": {"size": "SMALL"}},
        },
    }


def _map(dashboard: Dashboard, panel: Panel) -> dict[str, Any]:
    if panel.geo_field is None:
        raise ValueError(f"panel {panel.id}: a map needs a geo_field")
    oid = panel_id(dashboard, panel)
    base_map = {
        "id": f"{panel.id}-base-map", "type": "EMS_VECTOR_TILE", "label": None, "visible": True, "alpha": 1,
        "minZoom": 0, "maxZoom": 24, "includeInFitToBounds": True,
        "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"},
        "style": {"type": "EMS_VECTOR_TILE", "color": ""},
    }
    documents = {
        "id": f"{panel.id}-documents", "type": "GEOJSON_VECTOR", "label": panel.title, "visible": True,
        "alpha": 0.75, "minZoom": 0, "maxZoom": 24, "includeInFitToBounds": True, "joins": [],
        "disableTooltips": False,
        "query": _query(panel.query),
        "sourceDescriptor": {
            "id": f"{panel.id}-source", "type": "ES_SEARCH", "indexPatternRefName": MAP_INDEX_REF,
            "geoField": panel.geo_field, "scalingType": "LIMIT", "filterByMapBounds": True,
            "tooltipProperties": list(panel.tooltip), "sortField": TIME_FIELD, "sortOrder": "desc",
            "topHitsSplitField": "", "topHitsSize": 1,
            "applyGlobalQuery": True, "applyGlobalTime": True, "applyForceRefresh": True,
        },
        "style": _points_style("#E7664C"),
    }
    map_state = {"center": {"lat": 20, "lon": 0}, "zoom": 1.4, "query": _query(""), "filters": [],
                 "timeFilters": {"from": "now-24h", "to": "now"}, "refreshConfig": {"isPaused": True, "interval": 0}}
    attributes = {
        "title": panel.title,
        "description": "",
        "layerListJSON": _json([base_map, documents]),
        "mapStateJSON": _json(map_state),
        "uiStateJSON": _json({"isLayerTOCOpen": True, "openTOCDetails": []}),
    }
    return _saved_object("map", oid, attributes, [_reference(MAP_INDEX_REF, "index-pattern",
                                                              data_view_id(dashboard.data_view))])


def _grid(panels: tuple[Panel, ...]) -> list[dict[str, Any]]:
    """Panels left to right in source order, a new row when one is full."""
    cells: list[dict[str, Any]] = []
    x = y = row_height = 0
    for panel in panels:
        width, height = PANEL_SIZES[panel.type]
        if x + width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        cells.append({"x": x, "y": y, "w": width, "h": height, "i": panel.id})
        x, row_height = x + width, max(row_height, height)
    return cells


def _dashboard(dashboard: Dashboard, panel_objects: list[dict[str, Any]]) -> dict[str, Any]:
    panels, references = [], []
    for n, (panel, cell, shown) in enumerate(zip(dashboard.panels, _grid(dashboard.panels), panel_objects,
                                                 strict=True)):
        name = f"panel_{n}"
        panels.append({"type": shown["type"], "panelIndex": panel.id, "gridData": cell, "embeddableConfig": {},
                       "panelRefName": name})
        references.append(_reference(name, shown["type"], shown["id"]))
    attributes = {
        "title": dashboard.title,
        "description": dashboard.description,
        "panelsJSON": _json(panels),
        "optionsJSON": _json({"useMargins": True, "hidePanelTitles": False, "syncColors": False,
                              "syncCursor": True, "syncTooltips": False}),
        "timeRestore": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _json({"query": _query(""), "filter": []})},
    }
    return _saved_object("dashboard", dashboard_id(dashboard), attributes, references)
