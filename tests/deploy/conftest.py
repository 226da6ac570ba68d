"""Small content files of the generated shape, a clean environment, and Kibana's and OpenSearch's
answers as their documentation shows them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses

KIBANA = "https://kibana.example:5601"
DASHBOARDS = "https://dashboards.example:5601"
OPENSEARCH = "https://opensearch.example:9200"

INDEX_PATTERN = {
    "type": "index-pattern", "id": "aws-connector-vpcflow", "managed": False, "references": [],
    "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.0.0",
    "attributes": {"title": "logs-aws_connector.vpcflow-*", "name": "AWS connector: VPC flow logs",
                   "timeFieldName": "@timestamp"},
}
SEARCH = {
    "type": "search", "id": "aws-connector-rejected-ssh", "managed": False,
    "attributes": {"title": "AWS: rejected SSH connections", "columns": ["source.ip", "destination.port"],
                   "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({
                       "query": {"language": "lucene", "query": "aws.vpcflow.action:REJECT AND destination.port:22"},
                       "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"})}},
    "references": [{"id": "aws-connector-cloudtrail", "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                    "type": "index-pattern"}],
}
DASHBOARD = {
    "type": "dashboard", "id": "aws-connector-network", "managed": False,
    "attributes": {"title": "AWS network: VPC flow logs", "panelsJSON": "[]", "timeRestore": False,
                   "description": "Where rejected traffic comes from."},
    "references": [{"id": "aws-connector-vpcflow", "name": "panel_0:indexpattern", "type": "index-pattern"}],
}
IDENTITY = {**DASHBOARD, "id": "aws-connector-identity",
            "attributes": {**DASHBOARD["attributes"], "title": "AWS identity and API: CloudTrail"}}
EXPORT_SUMMARY = {"excludedObjects": [], "excludedObjectsCount": 0, "exportedCount": 4, "missingRefCount": 0,
                  "missingReferences": []}
KIBANA_OBJECTS = [INDEX_PATTERN, SEARCH, DASHBOARD, IDENTITY]

ROOT_RULE = {
    "rule_id": "aws-connector-root-account-activity", "name": "AWS: root account activity", "type": "query",
    "language": "lucene", "query": "user.name:root AND NOT event.type:denied",
    "index": ["logs-aws_connector.cloudtrail-*"], "risk_score": 73, "severity": "high",
    "description": "The root user signed in or called an API.", "enabled": False, "interval": "5m",
    "from": "now-6m", "version": 1,
}
SG_RULE = {**ROOT_RULE, "rule_id": "aws-connector-security-group-changes", "name": "AWS: security group changes",
           "query": "event.action:(AuthorizeSecurityGroupIngress OR RevokeSecurityGroupIngress)",
           "risk_score": 47, "severity": "medium"}
KIBANA_RULES = [ROOT_RULE, SG_RULE]

OSD_INDEX_PATTERN = {"type": "index-pattern", "id": "aws-connector-vpcflow", "references": [],
                     "attributes": {"title": "logs-aws_connector.vpcflow-*", "timeFieldName": "@timestamp"}}
OSD_VISUALIZATION = {"type": "visualization", "id": "aws-connector-network-rejected-ports",
                     "attributes": {"title": "Top rejected destination ports", "visState": "{}",
                                    "uiStateJSON": "{}", "kibanaSavedObjectMeta": {"searchSourceJSON": "{}"}},
                     "references": [{"id": "aws-connector-vpcflow", "name": "kibanaSavedObjectMeta.searchSourceJSON"
                                     ".index", "type": "index-pattern"}]}
OSD_DASHBOARD = {"type": "dashboard", "id": "aws-connector-network",
                 "attributes": {"title": "AWS network: VPC flow logs", "panelsJSON": "[]"},
                 "references": [{"id": "aws-connector-network-rejected-ports", "name": "panel_0",
                                 "type": "visualization"}]}
OSD_OBJECTS = [OSD_INDEX_PATTERN, OSD_VISUALIZATION, OSD_DASHBOARD]


def monitor(name: str, query: str, severity: str = "1") -> dict[str, Any]:
    """A query-level monitor as the generator writes it."""
    return {
        "type": "monitor", "monitor_type": "query_level_monitor", "name": name, "enabled": True,
        "schedule": {"period": {"interval": 5, "unit": "MINUTES"}},
        "inputs": [{"search": {"indices": ["logs-aws_connector.cloudtrail-*"], "query": {
            "size": 0, "query": {"bool": {"filter": [
                {"query_string": {"query": query}},
                {"range": {"@timestamp": {"gte": "{{period_end}}||-5m", "lte": "{{period_end}}"}}}]}}}}}],
        "triggers": [{"name": f"{name} matched", "severity": severity,
                      "condition": {"script": {"source": "ctx.results[0].hits.total.value > 0", "lang": "painless"}},
                      "actions": []}],
    }


MONITORS = {
    "aws-root-account-activity": monitor("AWS: root account activity", "user.name:root"),
    "aws-security-group-changes": monitor("AWS: security group changes", "event.action:AuthorizeSecurityGroupIngress",
                                          "2"),
}


def ndjson(objects: list[dict[str, Any]]) -> str:
    """One JSON object per line, as the generator writes them."""
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in objects)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A content folder of the generated shape: deploy/kibana, opensearch-dashboards, opensearch/monitors."""
    root = tmp_path / "deploy"
    (root / "kibana").mkdir(parents=True)
    (root / "kibana" / "saved-objects.ndjson").write_text(ndjson([*KIBANA_OBJECTS, EXPORT_SUMMARY]))
    (root / "kibana" / "detection-rules.ndjson").write_text(ndjson(KIBANA_RULES))
    (root / "opensearch-dashboards").mkdir()
    (root / "opensearch-dashboards" / "saved-objects.ndjson").write_text(ndjson(OSD_OBJECTS))
    (root / "opensearch" / "monitors").mkdir(parents=True)
    for name, body in MONITORS.items():
        (root / "opensearch" / "monitors" / f"{name}.json").write_text(json.dumps(body, indent=2, sort_keys=True))
    return root


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials or settings from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("KIBANA_", "OPENSEARCH_", "ES_", "AWS_SIEM_CONNECTOR_")):
            monkeypatch.delenv(name)


def seen() -> list[tuple[str, str]]:
    """(method, path) of every request ``responses`` answered, in order."""
    return [(str(c.request.method), urlsplit(str(c.request.url)).path) for c in responses.calls]


def one_error_line(err: str) -> str:
    """The single ``error:`` line a refused run prints, checked to come without a traceback."""
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    return line
