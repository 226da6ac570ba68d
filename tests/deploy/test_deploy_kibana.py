"""``deploy kibana``: saved objects through ``_bulk_get`` / ``_import`` and detection rules through
``rules?rule_id=`` / ``rules/_import``, against Kibana's documented answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from connector.cli import main
from tests.deploy.conftest import (
    DASHBOARD,
    IDENTITY,
    INDEX_PATTERN,
    KIBANA,
    KIBANA_OBJECTS,
    ROOT_RULE,
    SEARCH,
    SG_RULE,
    one_error_line,
    seen,
)

BULK_GET = f"{KIBANA}/api/saved_objects/_bulk_get"
IMPORT = f"{KIBANA}/api/saved_objects/_import"
RULES = f"{KIBANA}/api/detection_engine/rules"
RULES_IMPORT = f"{KIBANA}/api/detection_engine/rules/_import"
READ_ONLY = {("POST", "/api/saved_objects/_bulk_get"), ("GET", "/api/detection_engine/rules"),
             ("GET", "/api/spaces/space/security")}
ICONS = {"index-pattern": "indexPatternApp", "search": "discoverApp", "dashboard": "dashboardApp"}


def _found(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "namespaces": ["default"], "updated_at": "2024-05-02T09:12:44.513Z", "version": "WzEyLDFd"}


def _not_found(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": obj["id"], "type": obj["type"], "error": {
        "statusCode": 404, "error": "Not Found", "message": f"Saved object [{obj['type']}/{obj['id']}] not found"}}


def _bulk_get(existing: set[str], base: str = KIBANA) -> None:
    """Kibana's _bulk_get answer: the object, or an error object in its place."""
    responses.post(f"{base}/api/saved_objects/_bulk_get", json={
        "saved_objects": [_found(o) if o["id"] in existing else _not_found(o) for o in KIBANA_OBJECTS]})


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {"title": obj["attributes"].get("name") or obj["attributes"]["title"], "icon": ICONS[obj["type"]]}


def _imported(objects: list[dict[str, Any]], overwrite: bool = False) -> list[dict[str, Any]]:
    return [{"type": o["type"], "id": o["id"], "meta": _meta(o), "managed": False,
             **({"overwrite": True} if overwrite else {})} for o in objects]


def _rules(existing: set[str], base: str = KIBANA) -> None:
    """GET rules?rule_id=: the rule, or Kibana's 404 body."""
    for rule in (ROOT_RULE, SG_RULE):
        rule_id = rule["rule_id"]
        if rule_id in existing:
            body, status = {**rule, "id": "c41d170b-8ba6-4de6-b8ec-76440a35ace3", "immutable": False}, 200
        else:
            body, status = {"message": f'rule_id: "{rule_id}" not found', "status_code": 404}, 404
        responses.get(f"{base}/api/detection_engine/rules", json=body, status=status,
                      match=[matchers.query_param_matcher({"rule_id": rule_id})])


def _rules_imported(count: int, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"success": not errors, "success_count": count, "rules_count": count + len(errors or []),
            "errors": errors or [], "exceptions_errors": [], "exceptions_success": True,
            "exceptions_success_count": 0, "action_connectors_success": True, "action_connectors_success_count": 0,
            "action_connectors_errors": [], "action_connectors_warnings": []}


def _upload(call: Any) -> bytes:
    body = call.request.body
    return body if isinstance(body, bytes) else body.encode()


def _deploy(content: Path, *extra: str) -> int:
    return main(["deploy", "kibana", "--kibana-url", KIBANA, "--content-dir", str(content), *extra])


@responses.activate
def test_first_install_creates_every_object_and_rule(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bulk_get(set())
    responses.post(IMPORT, json={"successCount": 4, "success": True, "warnings": [],
                                 "successResults": _imported(KIBANA_OBJECTS)})
    _rules(set())
    responses.post(RULES_IMPORT, json=_rules_imported(2))
    assert _deploy(content) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'created index-pattern aws-connector-vpcflow "AWS connector: VPC flow logs"',
        'created search aws-connector-rejected-ssh "AWS: rejected SSH connections"',
        'created dashboard aws-connector-network "AWS network: VPC flow logs"',
        'created dashboard aws-connector-identity "AWS identity and API: CloudTrail"',
        'created rule aws-connector-root-account-activity "AWS: root account activity"',
        'created rule aws-connector-security-group-changes "AWS: security group changes"',
        f"kibana at {KIBANA}: 4 saved objects: 4 created; 2 detection rules: 2 created",
    ]
    import_call = next(c for c in responses.calls if c.request.url == IMPORT)
    assert import_call.request.headers["kbn-xsrf"] == "true"
    assert import_call.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    upload = _upload(import_call)
    assert b'name="file"; filename="saved-objects.ndjson"' in upload
    assert upload.count(b'"attributes"') == 4 and b"exportedCount" not in upload
    rules_call = next(c for c in responses.calls if c.request.url == RULES_IMPORT)
    assert b'filename="detection-rules.ndjson"' in _upload(rules_call)
    assert b"aws-connector-root-account-activity" in _upload(rules_call)


@responses.activate
def test_a_second_run_keeps_what_exists_and_imports_nothing(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bulk_get({o["id"] for o in KIBANA_OBJECTS})
    _rules({ROOT_RULE["rule_id"], SG_RULE["rule_id"]})
    assert _deploy(content) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2] == ('exists dashboard aws-connector-network "AWS network: VPC flow logs"'
                      " (kept; --overwrite replaces it)")
    assert out[-1] == f"kibana at {KIBANA}: 4 saved objects: 4 kept; 2 detection rules: 2 kept"
    assert set(seen()) <= READ_ONLY


@responses.activate
def test_a_partial_import_names_each_refused_object_and_exits_1(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bulk_get(set())
    responses.post(IMPORT, json={
        "successCount": 2, "success": False, "warnings": [],
        "successResults": _imported([INDEX_PATTERN, IDENTITY]),
        "errors": [
            {"id": DASHBOARD["id"], "type": "dashboard", "title": "AWS network: VPC flow logs",
             "meta": _meta(DASHBOARD), "error": {"type": "conflict"}, "managed": False},
            {"id": SEARCH["id"], "type": "search", "title": "AWS: rejected SSH connections", "meta": _meta(SEARCH),
             "error": {"type": "missing_references",
                       "references": [{"type": "index-pattern", "id": "aws-connector-cloudtrail"}]},
             "managed": False},
        ],
    })
    _rules(set())
    responses.post(RULES_IMPORT, json=_rules_imported(2))
    assert _deploy(content) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        'failed search aws-connector-rejected-ssh "AWS: rejected SSH connections": missing references: '
        "index-pattern aws-connector-cloudtrail; import the objects it uses first",
        'failed dashboard aws-connector-network "AWS network: VPC flow logs": conflict: the object exists already;'
        " --overwrite replaces it",
    ]
    out = captured.out.splitlines()
    assert 'created index-pattern aws-connector-vpcflow "AWS connector: VPC flow logs"' in out
    assert 'created dashboard aws-connector-identity "AWS identity and API: CloudTrail"' in out
    assert out[-1] == f"kibana at {KIBANA}: 4 saved objects: 2 created, 2 failed; 2 detection rules: 2 created"


@responses.activate
def test_a_refused_rule_is_named_with_kibanas_reason(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bulk_get({o["id"] for o in KIBANA_OBJECTS})
    _rules(set())
    responses.post(RULES_IMPORT, json=_rules_imported(1, [{"rule_id": SG_RULE["rule_id"], "error": {
        "status_code": 400, "message": 'Invalid value "lucene " supplied to "language"'}}]))
    assert _deploy(content) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        'failed rule aws-connector-security-group-changes "AWS: security group changes": '
        'Invalid value "lucene " supplied to "language" (HTTP 400)']
    assert captured.out.splitlines()[-1] == (
        f"kibana at {KIBANA}: 4 saved objects: 4 kept; 2 detection rules: 1 created, 1 failed")


@responses.activate
def test_dry_run_plans_create_exists_overwrite_and_changes_nothing(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bulk_get({INDEX_PATTERN["id"], DASHBOARD["id"]})
    _rules({ROOT_RULE["rule_id"]})
    assert _deploy(content, "--dry-run") == 0
    assert capsys.readouterr().out.splitlines() == [
        'exists index-pattern aws-connector-vpcflow "AWS connector: VPC flow logs" (kept; --overwrite replaces it)',
        'create search aws-connector-rejected-ssh "AWS: rejected SSH connections"',
        'exists dashboard aws-connector-network "AWS network: VPC flow logs" (kept; --overwrite replaces it)',
        'create dashboard aws-connector-identity "AWS identity and API: CloudTrail"',
        'exists rule aws-connector-root-account-activity "AWS: root account activity" (kept; --overwrite replaces it)',
        'create rule aws-connector-security-group-changes "AWS: security group changes"',
        f"dry run, nothing changed: kibana at {KIBANA}: 4 saved objects: 2 to create, 2 kept;"
        " 2 detection rules: 1 to create, 1 kept",
    ]
    assert _deploy(content, "--dry-run", "--overwrite") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'overwrite index-pattern aws-connector-vpcflow "AWS connector: VPC flow logs"'
    assert out[4] == 'overwrite rule aws-connector-root-account-activity "AWS: root account activity"'
    assert out[-1].endswith("2 to create, 2 to overwrite; 2 detection rules: 1 to create, 1 to overwrite")
    assert set(seen()) <= READ_ONLY


@responses.activate
def test_overwrite_replaces_existing_objects_and_rules(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bulk_get({INDEX_PATTERN["id"]})
    responses.post(IMPORT, json={"successCount": 4, "success": True, "warnings": [],
                                 "successResults": _imported(KIBANA_OBJECTS)},
                   match=[matchers.query_param_matcher({"overwrite": "true"})])
    _rules({ROOT_RULE["rule_id"], SG_RULE["rule_id"]})
    responses.post(RULES_IMPORT, json=_rules_imported(2), match=[matchers.query_param_matcher({"overwrite": "true"})])
    assert _deploy(content, "--overwrite") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'overwrote index-pattern aws-connector-vpcflow "AWS connector: VPC flow logs"'
    assert out[-1] == (f"kibana at {KIBANA}: 4 saved objects: 3 created, 1 overwritten;"
                       " 2 detection rules: 2 overwritten")


@responses.activate
def test_space_prefixes_every_api_path(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses.get(f"{KIBANA}/api/spaces/space/security",
                  json={"id": "security", "name": "Security", "disabledFeatures": [], "_reserved": False})
    _bulk_get(set(), f"{KIBANA}/s/security")
    responses.post(f"{KIBANA}/s/security/api/saved_objects/_import",
                   json={"successCount": 4, "success": True, "successResults": _imported(KIBANA_OBJECTS)})
    _rules(set(), f"{KIBANA}/s/security")
    responses.post(f"{KIBANA}/s/security/api/detection_engine/rules/_import", json=_rules_imported(2))
    assert _deploy(content, "--space", "security") == 0
    assert seen()[0] == ("GET", "/api/spaces/space/security")
    assert all(path.startswith("/s/security/api/") for _, path in seen()[1:])
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"kibana at {KIBANA} (space security): ")


@responses.activate
def test_a_missing_space_is_one_line_and_exit_2(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses.get(f"{KIBANA}/api/spaces/space/secops", status=404,
                  json={"statusCode": 404, "error": "Not Found", "message": "Not Found"})
    assert _deploy(content, "--space", "secops") == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == (f"aws-siem-connector deploy: error: kibana at {KIBANA} (space secops): space 'secops' does not"
                    " exist (GET /api/spaces/space/secops answered 404); create it or leave out --space")
    assert seen() == [("GET", "/api/spaces/space/secops")]


@pytest.mark.parametrize(("env", "header"), [
    ({"KIBANA_API_KEY": "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
     "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="),
    ({"KIBANA_API_KEY": "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"},
     "ApiKey " + base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()),
    ({"KIBANA_USERNAME": "elastic", "KIBANA_PASSWORD": "s3cr3t-Pa55"},
     "Basic " + base64.b64encode(b"elastic:s3cr3t-Pa55").decode()),
])
@responses.activate
def test_credentials_become_the_authorization_header_and_never_output(
    content: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
    header: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _bulk_get({o["id"] for o in KIBANA_OBJECTS})
    _rules({ROOT_RULE["rule_id"]})
    responses.post(RULES_IMPORT, status=401, json={
        "statusCode": 401, "error": "Unauthorized",
        "message": "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate user "
                   "[elastic] for REST request [/_security/_authenticate]]: unable to authenticate user [elastic] "
                   "for REST request [/_security/_authenticate]"})
    assert _deploy(content) == 2
    assert {c.request.headers["Authorization"] for c in responses.calls} == {header}
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith(f"aws-siem-connector deploy: error: kibana at {KIBANA} refused the credentials (HTTP 401):"
                           " [security_exception Root causes: security_exception: unable to authenticate user")
    secrets = [value for name, value in env.items() if not name.endswith("_USERNAME")]
    for secret in (*secrets, header.split()[1]):
        assert secret not in captured.out + captured.err


@responses.activate
def test_bad_credentials_stop_before_anything_is_sent(content: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIBANA_USERNAME", "elastic")
    monkeypatch.setenv("KIBANA_PASSWORD", "wrong")
    responses.post(BULK_GET, status=401, json={"statusCode": 401, "error": "Unauthorized",
                                               "message": "Unauthorized"})
    assert _deploy(content) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"aws-siem-connector deploy: error: kibana at {KIBANA} refused the credentials (HTTP 401): Unauthorized")
    assert seen() == [("POST", "/api/saved_objects/_bulk_get")]


@responses.activate
def test_an_unreachable_kibana_is_one_line_and_exit_2(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses.post(BULK_GET, body=requests.ConnectionError("[Errno 111] Connection refused"))
    assert _deploy(content) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"aws-siem-connector deploy: error: kibana at {KIBANA} unreachable: [Errno 111] Connection refused")


@responses.activate
def test_settings_from_the_configuration_file(content: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "connector.yaml"
    config.write_text(f"kibana:\n  url: {KIBANA}/\n  space: security\n  username: deployer\n  password: pw-in-file\n"
                      "  verify_tls: false\n")
    responses.get(f"{KIBANA}/api/spaces/space/security", json={"id": "security", "name": "Security"})
    _bulk_get({o["id"] for o in KIBANA_OBJECTS}, f"{KIBANA}/s/security")
    _rules({ROOT_RULE["rule_id"], SG_RULE["rule_id"]}, f"{KIBANA}/s/security")
    assert main(["deploy", "kibana", "--config", str(config), "--content-dir", str(content)]) == 0
    assert responses.calls[0].request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"deployer:pw-in-file").decode()
    assert "pw-in-file" not in capsys.readouterr().out
    config.write_text(f"kibana:\n  url: {KIBANA}\n  index: logs\n")
    assert main(["deploy", "kibana", "--config", str(config), "--content-dir", str(content)]) == 2
    assert "kibana: unknown setting(s) index" in one_error_line(capsys.readouterr().err)


def test_options_of_another_target_are_refused(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "opensearch-dashboards", "--dashboards-url", KIBANA, "--space", "x"]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        "aws-siem-connector deploy: error: --space applies to deploy kibana, not deploy opensearch-dashboards")
    assert main(["deploy", "elasticsearch", "--es-url", "http://es:9200", "--dry-run"]) == 2
    assert "--dry-run applies to deploy kibana and opensearch-dashboards and opensearch-alerting" in (
        one_error_line(capsys.readouterr().err))


def test_missing_content_says_where_to_get_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "kibana", "--kibana-url", KIBANA, "--content-dir", str(tmp_path)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{tmp_path}/kibana/saved-objects.ndjson not found: pass --content-dir DIR" in line


def test_the_upload_is_the_files_lines_unchanged(content: Path) -> None:
    from connector.deploy.content_files import saved_objects_in

    objects = saved_objects_in(content / "kibana" / "saved-objects.ndjson")
    assert [json.loads(o.line) for o in objects] == KIBANA_OBJECTS
