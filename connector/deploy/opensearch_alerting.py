"""``deploy opensearch-alerting``: one OpenSearch Alerting monitor per ``opensearch/monitors/*.json``,
created, or updated when its content changed, through the search sink's connection (basic,
bearer or SigV4 for Amazon OpenSearch Service).

A monitor is found by its name. OpenSearch rewrites a monitor on save (trigger ids, the query in
its full form), so the two cannot be compared as they are: each carries a digest of the file in
``ui_metadata.content_hash``, and an equal digest means unchanged.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import requests

from connector.content.build import OPENSEARCH_MONITORS_DIR
from connector.deploy.content_files import ContentObject, content_path, monitors_in
from connector.deploy.report import DeployReport, Outcomes
from connector.errors import FatalSinkError
from connector.sinks.opensearch import opensearch_connection
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_connection import SearchConnection, check_answer, error_reason_text
from connector.sinks.search_templates import content_hash

MONITORS = "/_plugins/_alerting/monitors"


def deploy_opensearch_alerting(
    config: SearchSinkConfig, root: Path, *, dry_run: bool, session: requests.Session | None = None,
    credentials: Any = None,
) -> DeployReport:
    """Create, update or leave each monitor (with ``dry_run``: only say which)."""
    monitors = monitors_in(content_path(root, OPENSEARCH_MONITORS_DIR))
    connection = opensearch_connection(config, session, credentials)
    outcomes = Outcomes("monitors", dry_run)
    try:
        for monitor in monitors:
            _install(connection, monitor, outcomes)
    finally:
        if session is None:
            connection.close()
    return DeployReport(f"opensearch at {config.url}", (outcomes,), dry_run)


def _install(connection: SearchConnection, monitor: ContentObject, outcomes: Outcomes) -> None:
    digest = content_hash(monitor.body)
    found = _find(connection, monitor.title)
    if found is not None and (found[1].get("ui_metadata") or {}).get("content_hash") == digest:
        outcomes.add("unchanged", monitor.label, f"(id {found[0]})")
        return
    outcome = "create" if found is None else "update"
    if outcomes.dry_run:
        outcomes.add(outcome, monitor.label, "" if found is None else f"(id {found[0]})")
        return
    stamped = copy.deepcopy(monitor.body)
    stamped["ui_metadata"] = {**(stamped.get("ui_metadata") or {}), "content_hash": digest}
    if found is None:
        resp = connection.request("POST", MONITORS, json_body=stamped)
    else:
        resp = connection.request("PUT", f"{MONITORS}/{found[0]}", json_body=stamped)
    if resp.status_code in (400, 409):
        # The monitor itself was refused (a bad query, say); the others still go.
        outcomes.fail(monitor.label, f"{error_reason_text(resp)} (HTTP {resp.status_code})")
        return
    check_answer(connection, resp, f"{outcome} monitor {monitor.title!r}")
    monitor_id = found[0] if found is not None else orjson.loads(resp.content).get("_id")
    outcomes.add(outcome, monitor.label, f"(id {monitor_id})")


def _find(connection: SearchConnection, name: str) -> tuple[str, dict[str, Any]] | None:
    """The id and content of the monitor called ``name``, or None."""
    path = f"{MONITORS}/_search"
    resp = connection.request("POST", path, json_body={"size": 100, "query": {"match_phrase": {"monitor.name": name}}})
    if resp.status_code == 404 and b"index_not_found_exception" in resp.content:
        return None  # no monitor was ever created: the alerting config index does not exist yet
    if resp.status_code >= 400 and b"no handler found" in resp.content:
        raise FatalSinkError(f"opensearch at {connection.url} has no Alerting plugin"
                             f" (POST {path} answered {resp.status_code})")
    check_answer(connection, resp, f"search monitors named {name!r}")
    for hit in orjson.loads(resp.content).get("hits", {}).get("hits", []):
        source = hit.get("_source") or {}
        if source.get("name") == name:
            return str(hit["_id"]), source
    return None
