"""``deploy opensearch-alerting``: each monitor found by name through the Alerting search API, then
created, updated or left unchanged, over the OpenSearch sink's connection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from connector.cli import main
from connector.sinks.search_templates import content_hash
from tests.deploy.conftest import MONITORS, OPENSEARCH, one_error_line, seen

MONITOR_API = f"{OPENSEARCH}/_plugins/_alerting/monitors"
SEARCH = f"{MONITOR_API}/_search"
ROOT = MONITORS["aws-root-account-activity"]
SG = MONITORS["aws-security-group-changes"]
NO_CONFIG_INDEX = {"error": {"root_cause": [{"type": "index_not_found_exception",
                                             "reason": "no such index [.opendistro-alerting-config]",
                                             "index": ".opendistro-alerting-config"}],
                             "type": "index_not_found_exception",
                             "reason": "no such index [.opendistro-alerting-config]",
                             "index": ".opendistro-alerting-config"}, "status": 404}


def _stored(body: dict[str, Any], content_hash_value: str) -> dict[str, Any]:
    """A monitor as the search API returns it: rewritten by OpenSearch (typed triggers with ids, schema
    version, times), and carrying the digest the deploy stamped."""
    triggers = [{"query_level_trigger": {**t, "id": "Xy1t2IsBPQ9n3bNQdd0f", "min_time_between_executions": None}}
                for t in body["triggers"]]
    return {**body, "schema_version": 8, "enabled_time": 1714641164513, "last_update_time": 1714641164513,
            "user": {"name": "admin", "backend_roles": [], "roles": ["all_access"], "custom_attribute_names": []},
            "data_sources": {"alerts_index": ".opendistro-alerting-alerts"}, "owner": "alerting",
            "triggers": triggers, "ui_metadata": {"content_hash": content_hash_value}}


def _search_answer(*hits: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"took": 3, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 0.5753642,
                     "hits": [{"_index": ".opendistro-alerting-config", "_id": monitor_id, "_version": 2,
                               "_seq_no": 4, "_primary_term": 1, "_score": 0.5753642, "_source": source}
                              for monitor_id, source in hits]}}


def _searches(answers: dict[str, dict[str, Any]]) -> None:
    """One search answer per monitor name asked for."""
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        name = json.loads(request.body)["query"]["match_phrase"]["monitor.name"]
        body = answers[name]
        return (404 if body is NO_CONFIG_INDEX else 200), {}, json.dumps(body)
    responses.add_callback(responses.POST, SEARCH, callback=answer)


def _written(monitor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"_id": monitor_id, "_version": 1, "_seq_no": 7, "_primary_term": 1, "monitor": body}


def _deploy(content: Path, *extra: str) -> int:
    return main(["deploy", "opensearch-alerting", "--opensearch-url", OPENSEARCH, "--content-dir", str(content),
                 *extra])


@responses.activate
def test_create_update_and_unchanged(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _searches({ROOT["name"]: NO_CONFIG_INDEX, SG["name"]: _search_answer()})
    responses.post(MONITOR_API, json=_written("vd5k2GsBlQ5JUWWFxhsP", ROOT))
    assert _deploy(content) == 0
    assert capsys.readouterr().out.splitlines() == [
        'created monitor aws-root-account-activity "AWS: root account activity" (id vd5k2GsBlQ5JUWWFxhsP)',
        'created monitor aws-security-group-changes "AWS: security group changes" (id vd5k2GsBlQ5JUWWFxhsP)',
        f"opensearch at {OPENSEARCH}: 2 monitors: 2 created",
    ]
    sent = json.loads(responses.calls[1].request.body)
    assert sent["ui_metadata"] == {"content_hash": content_hash(ROOT)}
    assert {k: v for k, v in sent.items() if k != "ui_metadata"} == ROOT

    responses.reset()
    _searches({ROOT["name"]: _search_answer(("vd5k2GsBlQ5JUWWFxhsP", _stored(ROOT, content_hash(ROOT)))),
               SG["name"]: _search_answer(("Qb3x2GsBlQ5JUWWFk7aT", _stored(SG, "0123456789abcdef")))})
    responses.put(f"{MONITOR_API}/Qb3x2GsBlQ5JUWWFk7aT", json=_written("Qb3x2GsBlQ5JUWWFk7aT", SG))
    assert _deploy(content) == 0
    assert capsys.readouterr().out.splitlines() == [
        'unchanged monitor aws-root-account-activity "AWS: root account activity" (id vd5k2GsBlQ5JUWWFxhsP)',
        'updated monitor aws-security-group-changes "AWS: security group changes" (id Qb3x2GsBlQ5JUWWFk7aT)',
        f"opensearch at {OPENSEARCH}: 2 monitors: 1 updated, 1 unchanged",
    ]
    search = ("POST", "/_plugins/_alerting/monitors/_search")
    assert seen() == [search, search, ("PUT", "/_plugins/_alerting/monitors/Qb3x2GsBlQ5JUWWFk7aT")]


@responses.activate
def test_a_monitor_with_a_similar_name_is_not_ours(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _stored(ROOT, content_hash(ROOT)) | {"name": "AWS: root account activity (copy)"}
    _searches({ROOT["name"]: _search_answer(("aaaaaaaaaaaaaaaaaaaa", copy)), SG["name"]: _search_answer()})
    assert _deploy(content, "--dry-run") == 0
    assert capsys.readouterr().out.splitlines() == [
        'create monitor aws-root-account-activity "AWS: root account activity"',
        'create monitor aws-security-group-changes "AWS: security group changes"',
        f"dry run, nothing changed: opensearch at {OPENSEARCH}: 2 monitors: 2 to create",
    ]


@responses.activate
def test_dry_run_only_searches(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _searches({ROOT["name"]: _search_answer(("vd5k2GsBlQ5JUWWFxhsP", _stored(ROOT, "stale"))),
               SG["name"]: _search_answer(("Qb3x2GsBlQ5JUWWFk7aT", _stored(SG, content_hash(SG))))})
    assert _deploy(content, "--dry-run") == 0
    assert capsys.readouterr().out.splitlines() == [
        'update monitor aws-root-account-activity "AWS: root account activity" (id vd5k2GsBlQ5JUWWFxhsP)',
        'unchanged monitor aws-security-group-changes "AWS: security group changes" (id Qb3x2GsBlQ5JUWWFk7aT)',
        f"dry run, nothing changed: opensearch at {OPENSEARCH}: 2 monitors: 1 to update, 1 unchanged",
    ]
    assert {method for method, _ in seen()} == {"POST"}
    assert {path for _, path in seen()} == {"/_plugins/_alerting/monitors/_search"}


@responses.activate
def test_a_refused_monitor_is_named_and_the_others_still_go(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _searches({ROOT["name"]: _search_answer(), SG["name"]: _search_answer()})
    responses.post(MONITOR_API, status=400, json={"error": {
        "root_cause": [{"type": "parsing_exception", "reason": "[query_string] unknown token [START_ARRAY]"}],
        "type": "parsing_exception", "reason": "[query_string] unknown token [START_ARRAY]"}, "status": 400})
    responses.post(MONITOR_API, json=_written("Qb3x2GsBlQ5JUWWFk7aT", SG))
    assert _deploy(content) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        'failed monitor aws-root-account-activity "AWS: root account activity": parsing_exception: [query_string]'
        " unknown token [START_ARRAY] (HTTP 400)"]
    assert captured.out.splitlines()[-1] == f"opensearch at {OPENSEARCH}: 2 monitors: 1 created, 1 failed"


@responses.activate
def test_sigv4_signs_the_alerting_requests(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SIEM_CONNECTOR_OPENSEARCH__AWS_SIGV4", "true")
    monkeypatch.setenv("AWS_SIEM_CONNECTOR_OPENSEARCH__AWS_REGION", "eu-west-1")
    _searches({ROOT["name"]: _search_answer(("vd5k2GsBlQ5JUWWFxhsP", _stored(ROOT, content_hash(ROOT)))),
               SG["name"]: _search_answer(("Qb3x2GsBlQ5JUWWFk7aT", _stored(SG, content_hash(SG))))})
    assert _deploy(content) == 0
    for call in responses.calls:
        assert call.request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/es/aws4_request" in call.request.headers["Authorization"]


@responses.activate
def test_unauthorized_and_no_alerting_plugin_are_one_line_and_exit_2(
    content: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSEARCH_USERNAME", "admin")
    monkeypatch.setenv("OPENSEARCH_PASSWORD", "wrong-Secret")
    responses.post(SEARCH, status=401, body="Unauthorized", content_type="text/plain")
    assert _deploy(content) == 2
    err = capsys.readouterr().err
    assert one_error_line(err) == (
        f"aws-siem-connector deploy: error: opensearch at {OPENSEARCH}: could not search monitors named"
        " 'AWS: root account activity' (HTTP 401): Unauthorized")
    assert "wrong-Secret" not in err
    responses.replace(responses.POST, SEARCH, status=400, json={
        "error": "no handler found for uri [/_plugins/_alerting/monitors/_search] and method [POST]"})
    assert _deploy(content) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"aws-siem-connector deploy: error: opensearch at {OPENSEARCH} has no Alerting plugin"
        " (POST /_plugins/_alerting/monitors/_search answered 400)")
