"""OpenSearch Alerting monitors for the bundled detections (``POST _plugins/_alerting/monitors``).

A single-event rule becomes a query-level monitor: its Lucene query over the last 10 minutes,
triggered by any hit. A counting rule becomes a bucket-level monitor: a composite aggregation per
time bucket of the rule's timespan and per group, with a trigger that keeps the buckets whose
count (or distinct count) crosses the rule's threshold, one alert per bucket. The hand-written
"new country" detection becomes a bucket-level monitor per user over its history window: the
latest first sighting among the user's countries, kept when it is later than the user's first
sign-in and falls in the last 10 minutes. A hand-written detection without new terms (the
threat-intel match) is a query-level monitor over the index patterns of all its datasets.

Every monitor runs every 5 minutes and ships disabled, without actions: a deployment adds its
notification channels, then enables it. Severity follows the rule's level (critical and high 1,
medium 2, low 3, informational 4).
"""

from __future__ import annotations

import re
from typing import Any

from connector.content.definitions import data_view_for
from connector.detections import Detection, HandwrittenDetection, Threshold, convert, handwritten

LOOKBACK_MINUTES = 10
SCHEDULE_MINUTES = 5
SEVERITY = {"critical": "1", "high": "1", "medium": "2", "low": "3", "informational": "4"}
TIME_FIELD = "@timestamp"
# The aggregation the bucket-level triggers look in, and how many buckets each page of it holds
# (Alerting pages through a composite aggregation).
GROUPS = "groups"
PAGE_SIZE = 1000
# More than there are countries (ISO 3166 has 249), so every value of a user's history is seen.
NEW_TERMS_VALUES = 250
_COMPARISON = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}
_MINUTES_PER_UNIT = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}


def monitors() -> dict[str, dict[str, Any]]:
    """File stem -> monitor body: each Sigma rule under its file's name, each hand-written
    detection under its title's."""
    made: dict[str, dict[str, Any]] = {}
    for detection in convert("lucene").detections:
        body = query_level_monitor(detection) if detection.threshold is None else bucket_level_monitor(detection)
        _add(made, _stem(detection.path), body)
    for hand in handwritten():
        if hand.new_terms is None:
            monitor = _query_level(hand.title, hand.level, hand.datasets, hand.base_query)
        else:
            new_terms = new_terms_monitor(hand)
            if new_terms is None:
                raise ValueError(f"{hand.title}: a new-terms monitor compares exactly two fields")
            monitor = new_terms
        _add(made, _slug(hand.title), monitor)
    return made


def _add(made: dict[str, dict[str, Any]], stem: str, body: dict[str, Any]) -> None:
    if stem in made:
        raise ValueError(f"two detections would write the monitor {stem}.json")
    made[stem] = body


def _stem(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".yml").removesuffix(".yaml")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def _indices(datasets: tuple[str, ...]) -> list[str]:
    return [data_view_for(dataset).title for dataset in datasets]


def _time_range(lookback: str) -> dict[str, Any]:
    """The ``lookback`` before the end of the monitor's run; Alerting fills in ``period_end``."""
    return {"range": {TIME_FIELD: {"gte": f"{{{{period_end}}}}||-{lookback}", "lte": "{{period_end}}",
                                   "format": "epoch_millis"}}}


def _filtered(query: str, lookback: str) -> dict[str, Any]:
    return {"bool": {"filter": [{"query_string": {"query": query}}, _time_range(lookback)]}}


def _monitor(kind: str, title: str, datasets: tuple[str, ...], search: dict[str, Any],
             trigger: dict[str, Any]) -> dict[str, Any]:
    return {"type": "monitor", "monitor_type": kind, "name": title, "enabled": False,
            "schedule": {"period": {"interval": SCHEDULE_MINUTES, "unit": "MINUTES"}},
            "inputs": [{"search": {"indices": _indices(datasets), "query": search}}],
            "triggers": [trigger]}


def _painless(source: str) -> dict[str, str]:
    return {"source": source, "lang": "painless"}


def query_level_monitor(detection: Detection) -> dict[str, Any]:
    """Alert when the rule's query matches any event of the last 10 minutes."""
    return _query_level(detection.title, detection.level, (detection.dataset,), detection.query)


def _query_level(title: str, level: str, datasets: tuple[str, ...], query: str) -> dict[str, Any]:
    search = {"size": 10, "track_total_hits": True, "sort": [{TIME_FIELD: {"order": "desc"}}],
              "query": _filtered(query, f"{LOOKBACK_MINUTES}m")}
    trigger = {"query_level_trigger": {"name": title, "severity": SEVERITY[level],
                                       "condition": {"script": _painless("ctx.results[0].hits.total.value > 0")},
                                       "actions": []}}
    return _monitor("query_level_monitor", title, datasets, search, trigger)


def _minutes(timespan: str) -> float:
    match = re.fullmatch(r"(\d+)([smhd])", timespan)
    if match is None:
        raise ValueError(f"timespan {timespan!r} is not <number><s|m|h|d>")
    return int(match.group(1)) * _MINUTES_PER_UNIT[match.group(2)]


def _counting_lookback(threshold: Threshold) -> str:
    # Each time bucket must lie whole inside one run's window: runs come every SCHEDULE_MINUTES.
    return f"{max(LOOKBACK_MINUTES, int(_minutes(threshold.timespan) + SCHEDULE_MINUTES))}m"


def bucket_level_monitor(detection: Detection) -> dict[str, Any]:
    """Alert per time bucket and group whose count crosses the rule's threshold."""
    threshold = detection.threshold
    if threshold is None:
        raise ValueError(f"{detection.title}: a single-event rule has a query-level monitor")
    sources: list[dict[str, Any]] = [{"timespan": {"date_histogram": {"field": TIME_FIELD,
                                                                      "fixed_interval": threshold.timespan}}}]
    sources += [{name: {"terms": {"field": name}}} for name in threshold.group_by]
    composite: dict[str, Any] = {"composite": {"size": PAGE_SIZE, "sources": sources}}
    if threshold.kind == "value_count":
        composite["aggs"] = {"distinct_values": {"cardinality": {"field": threshold.field,
                                                                 "precision_threshold": 40000}}}
        measure = "distinct_values"
    else:
        measure = "_count"
    search = {"size": 0, "query": _filtered(detection.query, _counting_lookback(threshold)),
              "aggregations": {GROUPS: composite}}
    condition = {"buckets_path": {measure: measure}, "parent_bucket_path": GROUPS,
                 "script": _painless(f"params.{measure} {_COMPARISON[threshold.operator]} {threshold.count}")}
    trigger = {"bucket_level_trigger": {"name": detection.title, "severity": SEVERITY[detection.level],
                                        "condition": condition, "actions": []}}
    return _monitor("bucket_level_monitor", detection.title, (detection.dataset,), search, trigger)


def new_terms_monitor(detection: HandwrittenDetection) -> dict[str, Any] | None:
    """Alert per group (the first new-terms field, e.g. the user) whose newest value of the second
    field (e.g. the country) was first seen in the last 10 minutes, after the group's first event.

    ``None`` for a detection that is not a new-terms pair (one without new terms has a query-level
    monitor; a new-terms detection over one or three fields has no monitor form).
    """
    if detection.new_terms is None or len(detection.new_terms.fields) != 2:
        return None
    group, term = detection.new_terms.fields
    first_seen = {"min": {"field": TIME_FIELD}}
    aggs = {
        "first_seen": first_seen,
        "values": {"terms": {"field": term, "size": NEW_TERMS_VALUES}, "aggs": {"first_seen": first_seen}},
        "newest_value_first_seen": {"max_bucket": {"buckets_path": "values>first_seen"}},
        "last_window": {"filter": _time_range(f"{LOOKBACK_MINUTES}m"), "aggs": {"first_seen": first_seen}},
    }
    composite = {"composite": {"size": PAGE_SIZE, "sources": [{group: {"terms": {"field": group}}}]}, "aggs": aggs}
    search = {"size": 0, "query": _filtered(detection.base_query, detection.new_terms.history_window),
              "aggregations": {GROUPS: composite}}
    # The window's earliest event is at or before the newest first sighting exactly when that
    # sighting falls inside the window; a group with no event in the window has no value there.
    paths = {"group_first_seen": "first_seen", "newest_value_first_seen": "newest_value_first_seen",
             "window_first_seen": "last_window>first_seen"}
    condition = {"buckets_path": paths,
                 "parent_bucket_path": GROUPS,
                 "script": _painless("params.newest_value_first_seen > params.group_first_seen"
                                     " && params.newest_value_first_seen >= params.window_first_seen")}
    trigger = {"bucket_level_trigger": {"name": detection.title, "severity": SEVERITY[detection.level],
                                        "condition": condition, "actions": []}}
    return _monitor("bucket_level_monitor", detection.title, detection.datasets, search, trigger)
