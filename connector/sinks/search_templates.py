"""Installs the aws_connector templates and lifecycle policy, idempotently, and says what changed.

The JSON under ``mappings/elasticsearch`` and ``mappings/opensearch`` is the source of truth.
Each object is stamped with a hash of its content in ``_meta`` (ISM: the description), so a
second deploy compares hashes and rewrites nothing. A cluster without ILM/ISM (minimal or
integration-test builds) still gets the templates; the policy is skipped with a notice.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import requests

from connector.errors import SinkError
from connector.normalize.specs import mappings_dir as specs_mappings_dir
from connector.sinks.search_config import DATASETS, SearchSinkConfig
from connector.sinks.search_connection import SearchConnection, check_answer

POLICY_NAME = "aws_connector-logs"
# Full Elasticsearch distributions install `logs-*-*` at priority 100; ours must win.
MIN_PRIORITY = 200


@dataclass(frozen=True)
class TemplateSet:
    """Everything one deploy writes, already adapted to the config (data streams or indices)."""

    component_templates: dict[str, dict[str, Any]]
    index_templates: dict[str, dict[str, Any]]
    policy: dict[str, Any]


def load_templates(config: SearchSinkConfig, mappings_dir: Path | None = None) -> TemplateSet:
    """Read the JSON files for ``config.kind`` and adapt index patterns to data streams or indices."""
    root = (mappings_dir or specs_mappings_dir()) / config.kind
    components = {p.stem: _read(p) for p in sorted((root / "component_templates").glob("*.json"))}
    index_templates: dict[str, dict[str, Any]] = {}
    for dataset in DATASETS:
        body = _read(root / "index_templates" / f"logs-aws_connector.{dataset}.json")
        if body.get("priority", 0) < MIN_PRIORITY:
            raise SinkError(f"index template for {dataset} has priority below {MIN_PRIORITY}")
        name = f"logs-aws_connector.{dataset}"
        if not config.data_streams:
            body.pop("data_stream", None)
            name = f"{config.index_prefix}.{dataset}"
            body["index_patterns"] = [f"{name}-*"]
        index_templates[name] = body
    policy_dir = "ilm" if config.kind == "elasticsearch" else "ism"
    policy = _read(root / policy_dir / f"{POLICY_NAME}.json")
    return TemplateSet(components, index_templates, policy)


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise SinkError(f"{path} must hold a JSON object")
    return data


def content_hash(body: Mapping[str, Any]) -> str:
    """A short, stable digest of what we would write."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def install_templates(connection: SearchConnection, mappings_dir: Path | None = None) -> list[str]:
    """Install policy, component and index templates; return one human-readable line per object."""
    config = connection.config
    templates = load_templates(config, mappings_dir)
    changes: list[str] = []
    lifecycle = _install_policy(connection, templates.policy, changes)
    for name, body in templates.component_templates.items():
        body = copy.deepcopy(body)
        if lifecycle and name == "aws_connector@settings":
            settings = body.setdefault("template", {}).setdefault("settings", {})
            settings.setdefault("index", {})["lifecycle"] = {"name": POLICY_NAME}
        _put_stamped(connection, "component template", f"/_component_template/{name}", name, body, changes)
    for name, body in templates.index_templates.items():
        _put_stamped(connection, "index template", f"/_index_template/{name}", name, body, changes)
    target = "data streams" if config.data_streams else "indices"
    names = ", ".join(config.index_for(d) or "" for d in DATASETS)
    changes.append(f"documents go to {target}: {names}")
    return changes


def deploy(
    config: SearchSinkConfig, *, session: requests.Session | None = None, credentials: Any = None
) -> list[str]:
    """What ``aws-siem-connector deploy elasticsearch|opensearch`` runs: install and report."""
    if config.kind == "opensearch":
        from connector.sinks.opensearch import opensearch_connection

        connection = opensearch_connection(config, session, credentials)
    else:
        from connector.sinks.elasticsearch import elasticsearch_connection

        connection = elasticsearch_connection(config, session)
    try:
        return install_templates(connection)
    finally:
        if session is None:
            connection.close()


def _put_stamped(
    connection: SearchConnection, what: str, path: str, name: str, body: dict[str, Any], changes: list[str]
) -> None:
    digest = content_hash(body)
    stamped = copy.deepcopy(body)
    stamped.setdefault("_meta", {})["content_hash"] = digest
    existing = _get(connection, path)
    current = _existing_meta_hash(existing, what)
    priority = f" (priority {body['priority']})" if "priority" in body else ""
    if current == digest:
        changes.append(f"unchanged {what} {name}{priority}")
        return
    check_answer(connection, connection.request("PUT", path, json_body=stamped), f"install {what} {name}")
    verb = "created" if existing is None else "updated"
    changes.append(f"{verb} {what} {name}{priority}")


def _existing_meta_hash(existing: Mapping[str, Any] | None, what: str) -> str | None:
    if existing is None:
        return None
    key, inner = (
        ("component_templates", "component_template")
        if what == "component template"
        else ("index_templates", "index_template")
    )
    for entry in existing.get(key, []):
        meta = entry.get(inner, {}).get("_meta") or {}
        return str(meta.get("content_hash")) if meta.get("content_hash") else ""
    return None


def _install_policy(connection: SearchConnection, policy: dict[str, Any], changes: list[str]) -> bool:
    """Install the ILM (Elasticsearch) or ISM (OpenSearch) policy; False when the cluster has none."""
    config = connection.config
    if not config.data_streams:
        changes.append(
            f"skipped lifecycle policy {POLICY_NAME}: rollover needs data streams; plain indices grow"
            " until you manage them yourself"
        )
        return False
    if config.kind == "elasticsearch":
        return _install_ilm(connection, policy, changes)
    return _install_ism(connection, policy, changes)


def _install_ilm(connection: SearchConnection, policy: dict[str, Any], changes: list[str]) -> bool:
    status = connection.request("GET", "/_ilm/status")
    if status.status_code in (401, 403):
        check_answer(connection, status, "read ILM status")
    if status.status_code != 200:
        changes.append(
            f"skipped ILM policy {POLICY_NAME}: this cluster has no index lifecycle management"
            f" (GET /_ilm/status answered {status.status_code}); data streams will not roll over"
        )
        return False
    digest = content_hash(policy)
    stamped = copy.deepcopy(policy)
    stamped["policy"].setdefault("_meta", {})["content_hash"] = digest
    existing = _get(connection, f"/_ilm/policy/{POLICY_NAME}")
    current = None
    if existing is not None:
        current = (existing.get(POLICY_NAME, {}).get("policy", {}).get("_meta") or {}).get("content_hash")
    if current == digest:
        changes.append(f"unchanged ILM policy {POLICY_NAME}")
        return True
    resp = connection.request("PUT", f"/_ilm/policy/{POLICY_NAME}", json_body=stamped)
    check_answer(connection, resp, f"install ILM policy {POLICY_NAME}")
    changes.append(f"{'created' if existing is None else 'updated'} ILM policy {POLICY_NAME}")
    return True


def _install_ism(connection: SearchConnection, policy: dict[str, Any], changes: list[str]) -> bool:
    path = f"/_plugins/_ism/policies/{POLICY_NAME}"
    resp = connection.request("GET", path)
    if resp.status_code in (401, 403):
        check_answer(connection, resp, "read ISM policy")
    if resp.status_code not in (200, 404) or (resp.status_code == 404 and not _is_json_error(resp)):
        changes.append(
            f"skipped ISM policy {POLICY_NAME}: this cluster has no index state management plugin"
            f" (GET {path} answered {resp.status_code}); data streams will not roll over"
        )
        return False
    digest = content_hash(policy)
    stamped = copy.deepcopy(policy)
    marker = f"[content_hash={digest}]"
    stamped["policy"]["description"] = f"{stamped['policy'].get('description', '')} {marker}".strip()
    if resp.status_code == 200:
        current = orjson.loads(resp.content)
        if marker in str(current.get("policy", {}).get("description", "")):
            changes.append(f"unchanged ISM policy {POLICY_NAME}")
            return True
        seq, term = current.get("_seq_no"), current.get("_primary_term")
        put = connection.request("PUT", f"{path}?if_seq_no={seq}&if_primary_term={term}", json_body=stamped)
        check_answer(connection, put, f"update ISM policy {POLICY_NAME}")
        changes.append(f"updated ISM policy {POLICY_NAME}")
        return True
    check_answer(connection, connection.request("PUT", path, json_body=stamped), f"install ISM policy {POLICY_NAME}")
    changes.append(f"created ISM policy {POLICY_NAME}")
    return True


def _is_json_error(resp: requests.Response) -> bool:
    try:
        return isinstance(orjson.loads(resp.content), dict)
    except orjson.JSONDecodeError:
        return False


def _get(connection: SearchConnection, path: str) -> dict[str, Any] | None:
    resp = connection.request("GET", path)
    if resp.status_code == 404:
        return None
    check_answer(connection, resp, f"read {path}")
    data = orjson.loads(resp.content)
    return data if isinstance(data, dict) else None
