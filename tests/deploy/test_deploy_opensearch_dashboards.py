"""``deploy opensearch-dashboards``: the saved objects import of OpenSearch Dashboards, with the
security tenant header and the OpenSearch sink's credentials."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from connector.cli import main
from tests.deploy.conftest import DASHBOARDS, OSD_DASHBOARD, OSD_INDEX_PATTERN, OSD_OBJECTS, one_error_line, seen

BULK_GET = f"{DASHBOARDS}/api/saved_objects/_bulk_get"
IMPORT = f"{DASHBOARDS}/api/saved_objects/_import"


def _bulk_get(existing: set[str]) -> None:
    responses.post(BULK_GET, json={"saved_objects": [
        {**o, "version": "WzQsMV0=", "updated_at": "2024-05-02T09:12:44.513Z"} if o["id"] in existing else
        {"id": o["id"], "type": o["type"], "error": {"statusCode": 404, "error": "Not Found",
                                                      "message": f"Saved object [{o['type']}/{o['id']}] not found"}}
        for o in OSD_OBJECTS]})


def _imported(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"successCount": len(objects), "success": True, "successResults": [
        {"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"]["title"]}} for o in objects]}


def _deploy(content: Path, *extra: str) -> int:
    return main(["deploy", "opensearch-dashboards", "--dashboards-url", DASHBOARDS, "--content-dir", str(content),
                 *extra])


@responses.activate
def test_import_into_a_tenant_with_the_opensearch_credentials(
    content: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSEARCH_USERNAME", "admin")
    monkeypatch.setenv("OPENSEARCH_PASSWORD", "Adm1n-Secret")
    _bulk_get({OSD_INDEX_PATTERN["id"]})
    responses.post(IMPORT, json=_imported(OSD_OBJECTS[1:]))
    assert _deploy(content, "--tenant", "global") == 0
    assert capsys.readouterr().out.splitlines() == [
        'exists index-pattern aws-connector-vpcflow "logs-aws_connector.vpcflow-*" (kept; --overwrite replaces it)',
        'created visualization aws-connector-network-rejected-ports "Top rejected destination ports"',
        'created dashboard aws-connector-network "AWS network: VPC flow logs"',
        f"opensearch-dashboards at {DASHBOARDS} (tenant global): 3 saved objects: 2 created, 1 kept",
    ]
    for call in responses.calls:
        assert call.request.headers["securitytenant"] == "global"
        assert call.request.headers["osd-xsrf"] == "true"
        assert call.request.headers["Authorization"] == "Basic " + base64.b64encode(b"admin:Adm1n-Secret").decode()
    upload = responses.calls[1].request.body
    assert b"aws-connector-network-rejected-ports" in upload and b"logs-aws_connector.vpcflow-*" not in upload


@responses.activate
def test_bearer_token_and_no_tenant_header_without_tenant(
    content: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSEARCH_BEARER_TOKEN", "eyJhbGciOiJSUzI1NiJ9.payload.signature")
    _bulk_get({o["id"] for o in OSD_OBJECTS})
    assert _deploy(content) == 0
    (call,) = responses.calls
    assert call.request.headers["Authorization"] == "Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature"
    assert "securitytenant" not in call.request.headers
    assert "eyJhbGciOiJSUzI1NiJ9" not in capsys.readouterr().out


@responses.activate
def test_dry_run_and_overwrite(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bulk_get({OSD_DASHBOARD["id"]})
    assert _deploy(content, "--dry-run", "--overwrite", "--tenant", "private") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2] == 'overwrite dashboard aws-connector-network "AWS network: VPC flow logs"'
    assert out[-1] == (f"dry run, nothing changed: opensearch-dashboards at {DASHBOARDS} (tenant private):"
                       " 3 saved objects: 2 to create, 1 to overwrite")
    assert seen() == [("POST", "/api/saved_objects/_bulk_get")]
    responses.post(IMPORT, json=_imported(OSD_OBJECTS), match=[matchers.query_param_matcher({"overwrite": "true"})])
    assert _deploy(content, "--overwrite") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2] == 'overwrote dashboard aws-connector-network "AWS network: VPC flow logs"'


@responses.activate
def test_an_unknown_type_is_named_and_the_rest_imported(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bulk_get(set())
    responses.post(IMPORT, json={
        "successCount": 2, "success": False,
        "successResults": [{"type": o["type"], "id": o["id"], "meta": {}} for o in (OSD_INDEX_PATTERN, OSD_DASHBOARD)],
        "errors": [{"id": "aws-connector-network-rejected-ports", "type": "visualization",
                    "title": "Top rejected destination ports", "meta": {"title": "Top rejected destination ports"},
                    "error": {"type": "unsupported_type"}}]})
    assert _deploy(content) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        'failed visualization aws-connector-network-rejected-ports "Top rejected destination ports": unsupported'
        " type: this version does not know the type (or its plugin is off)"]
    assert captured.out.splitlines()[-1].endswith("3 saved objects: 2 created, 1 failed")


@responses.activate
def test_forbidden_is_one_line_and_exit_2(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses.post(BULK_GET, status=403, json={"statusCode": 403, "error": "Forbidden",
                                               "message": "no permissions for [indices:data/read/mget]"})
    assert _deploy(content, "--tenant", "global") == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"aws-siem-connector deploy: error: opensearch-dashboards at {DASHBOARDS} (tenant global): not allowed to"
        " look up saved objects (HTTP 403): no permissions for [indices:data/read/mget]")
