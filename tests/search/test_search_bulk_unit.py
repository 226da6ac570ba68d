"""Bulk behaviour the real servers rarely show on demand: 429 storms, 5xx, per-item errors, auth."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import requests
import responses
from botocore.credentials import Credentials

from connector.errors import ConfigError, FatalSinkError, SinkError
from connector.sinks.base import Batch
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.opensearch import OpenSearchSink
from connector.sinks.search_config import SearchSinkConfig
from tests.faults import Reconciliation
from tests.search.ecs_docs import dataset_batch, flow_doc

URL = "http://es.test:9200"
BULK = f"{URL}/_bulk"


def _config(kind: str = "elasticsearch", **settings: Any) -> SearchSinkConfig:
    return SearchSinkConfig.from_settings({"url": URL, **settings}, {}, kind)


def _sink(**settings: Any) -> ElasticsearchSink:
    config = _config(**{"concurrency": 1, "max_retries": 5, **settings})
    return ElasticsearchSink(config, session=requests.Session(), sleep=lambda _s: None)


def _flows(count: int) -> Batch:
    batch = Batch()
    for n in range(count):
        batch.add(flow_doc(n), "aws.vpcflow", f"origin#{n}")
    return batch


def _actions(call: Any) -> list[dict[str, Any]]:
    """The action lines of a recorded bulk request (decompressed)."""
    assert call.request.headers["Content-Encoding"] == "gzip"
    lines = gzip.decompress(call.request.body).decode().splitlines()
    return [json.loads(line) for line in lines[0::2]]


def _landed(calls: Any) -> list[str]:
    """Ids the scripted server holds after ``calls``: created (201), or there already (409)."""
    ids: list[str] = []
    for call in calls:
        if not isinstance(call.response, requests.Response) or call.response.status_code != 200:
            continue
        sent = [a["create"]["_id"] for a in _actions(call)]
        items = call.response.json().get("items", [])
        ids += [i for i, item in zip(sent, items, strict=True) if item["create"]["status"] in (201, 409)]
    return ids


def _items(*statuses: int, error: dict[str, Any] | None = None) -> dict[str, Any]:
    items = []
    for status in statuses:
        result: dict[str, Any] = {"status": status}
        if status >= 300:
            result["error"] = error or {"type": "es_rejected_execution_exception", "reason": "queue full"}
        items.append({"create": result})
    return {"errors": any(s >= 300 for s in statuses), "items": items}


@responses.activate
def test_body_is_gzipped_ndjson_of_create_actions_with_event_ids() -> None:
    responses.post(BULK, json={"errors": False, "items": [{"create": {"status": 201}}] * 3})
    batch = dataset_batch(1, 1, 1)
    sink = _sink()
    delivery = sink.send(batch)
    sink.close()
    assert delivery.delivered == 3
    call = responses.calls[0]
    assert call.request.headers["Content-Type"] == "application/x-ndjson"
    assert _actions(call) == [
        {"create": {"_index": "logs-aws_connector.vpcflow-default", "_id": batch.docs[0]["event"]["id"]}},
        {"create": {"_index": "logs-aws_connector.cloudtrail-default", "_id": batch.docs[1]["event"]["id"]}},
        {"create": {"_index": "logs-aws_connector.config-default", "_id": batch.docs[2]["event"]["id"]}},
    ]
    sources = gzip.decompress(call.request.body).decode().splitlines()[1::2]
    assert [json.loads(s) for s in sources] == list(batch.docs)


@responses.activate
def test_compression_level_0_sends_plain_ndjson_without_content_encoding() -> None:
    responses.post(BULK, json={"errors": False, "items": [{"create": {"status": 201}}] * 4})
    batch = _flows(4)
    sink = _sink(compression_level=0)
    assert sink.send(batch).delivered == 4
    sink.close()
    call = responses.calls[0]
    assert "Content-Encoding" not in call.request.headers
    # Every line ends with a newline, the last one included, as _bulk requires; no blank lines.
    assert call.request.body.endswith(b"}\n") and call.request.body.count(b"\n") == 8
    lines = call.request.body.decode().splitlines()
    assert [json.loads(line)["create"]["_id"] for line in lines[0::2]] == batch.ids
    assert [json.loads(line) for line in lines[1::2]] == list(batch.docs)


@pytest.mark.faults
@responses.activate
def test_429_storm_resends_only_rejected_items_and_delivers_each_once() -> None:
    responses.post(BULK, status=429, json={"error": {"type": "es_rejected_execution_exception"}})
    responses.post(BULK, status=429, json={"error": {"type": "es_rejected_execution_exception"}})
    responses.post(BULK, json=_items(201, 429, 201, 429, 503, 201))
    responses.post(BULK, json=_items(201, 429, 201))
    responses.post(BULK, json=_items(201))
    sink = _sink()
    batch = _flows(6)
    delivery = sink.send(batch)
    sink.close()
    assert (delivery.delivered, delivery.dead_lettered) == (6, [])
    sent_ids = [[a["create"]["_id"] for a in _actions(c)] for c in responses.calls]
    ids = [d["event"]["id"] for d in batch.docs]
    assert sent_ids == [ids, ids, ids, [ids[1], ids[3], ids[4]], [ids[3]]]
    accepted = [ids[0], ids[2], ids[5], ids[1], ids[4], ids[3]]
    assert sorted(accepted) == sorted(ids)  # each id acknowledged exactly once
    assert sink.stats.retried_requests == 4
    Reconciliation.of("search-bulk-429-storm", batch.ids, _landed(responses.calls)).assert_nothing_lost()


@pytest.mark.faults
@responses.activate
def test_5xx_until_retries_run_out_raises_sink_error() -> None:
    for _ in range(4):
        responses.post(BULK, status=503, json={"error": {"type": "unavailable", "reason": "master left"}})
    sink = _sink(max_retries=3)
    batch = _flows(2)
    with pytest.raises(SinkError, match=r"after 4 attempt\(s\).*HTTP 503") as err:
        sink.send(batch)
    sink.close()
    assert not isinstance(err.value, FatalSinkError)
    assert len(responses.calls) == 4
    # Nothing was acknowledged: the source hands the records out again once the cluster is back.
    responses.post(BULK, json=_items(201, 201))
    sink = _sink()
    assert sink.send(batch).delivered == 2
    sink.close()
    Reconciliation.of("search-bulk-5xx-bounded-retries-then-redelivery", batch.ids,
                      _landed(responses.calls)).assert_nothing_lost()


@pytest.mark.faults
@responses.activate
def test_connection_error_is_retried() -> None:
    responses.post(BULK, body=requests.ConnectionError("connection refused"))
    responses.post(BULK, json={"errors": False, "items": [{"create": {"status": 201}}]})
    sink = _sink()
    batch = _flows(1)
    assert sink.send(batch).delivered == 1
    sink.close()
    Reconciliation.of("search-bulk-connection-error", batch.ids, _landed(responses.calls)).assert_nothing_lost()


@pytest.mark.faults
@responses.activate
def test_per_item_outcomes_mapping_error_conflict_and_success() -> None:
    mapping_error = {
        "type": "document_parsing_exception",
        "reason": "failed to parse field [source.port] of type [long]",
        "caused_by": {"type": "illegal_argument_exception", "reason": 'For input string: "x"'},
    }
    body = _items(201, 400, 409, error=mapping_error)
    body["items"][2]["create"]["error"] = {"type": "version_conflict_engine_exception", "reason": "exists"}
    responses.post(BULK, json=body)
    sink = _sink()
    batch = _flows(3)
    delivery = sink.send(batch)
    sink.close()
    assert delivery.delivered == 2
    assert sink.stats.conflicts == 1
    [letter] = delivery.dead_lettered
    assert letter.record == batch.docs[1]
    assert letter.origin == "origin#1"
    assert letter.reason == (
        "HTTP 400 document_parsing_exception: failed to parse field [source.port] of type [long]"
        ' (caused by illegal_argument_exception: For input string: "x")'
    )
    assert letter.location == f"logs-aws_connector.vpcflow-default/{batch.docs[1]['event']['id']}"
    Reconciliation.of("search-bulk-mapping-error-and-conflict", batch.ids, _landed(responses.calls),
                      [letter.record["event"]["id"]]).assert_nothing_lost()


@pytest.mark.faults
def test_records_that_cannot_be_written_idempotently_are_dead_lettered_before_sending() -> None:
    batch = Batch()
    without_id = flow_doc(0)
    del without_id["event"]["id"]
    batch.add(without_id, "aws.vpcflow", "origin#0")
    batch.add(flow_doc(1), "aws.vpcflow", "origin#1")
    batch.add(flow_doc(9), "aws.guardduty", "origin#9")
    with responses.RequestsMock() as mock:
        mock.post(BULK, json={"errors": False, "items": [{"create": {"status": 201}}]})
        sink = _sink()
        delivery = sink.send(batch)
        sink.close()
        assert len(_actions(mock.calls[0])) == 1
        landed = _landed(mock.calls)
    assert delivery.delivered == 1
    assert [d.origin for d in delivery.dead_lettered] == ["origin#0", "origin#9"]
    assert "event.id" in delivery.dead_lettered[0].reason
    assert "aws.guardduty" in delivery.dead_lettered[1].reason
    # One record has no id: records are told apart by origin here.
    origin_of = {i: o for i, o in zip(batch.ids, batch.origins, strict=True) if i}
    Reconciliation.of("search-bulk-no-event-id-or-unknown-dataset", batch.origins, [origin_of[i] for i in landed],
                      [d.origin for d in delivery.dead_lettered]).assert_nothing_lost()


@pytest.mark.faults
@responses.activate
def test_missing_index_and_bad_credentials_are_fatal_without_the_secret() -> None:
    batch = _flows(1)
    responses.post(BULK, json=_items(404, error={"type": "index_not_found_exception", "reason": "no such index"}))
    sink = _sink()
    with pytest.raises(FatalSinkError, match="index_not_found_exception"):
        sink.send(batch)
    sink.close()
    responses.post(BULK, status=401, json={"error": {"type": "security_exception", "reason": "unable to authenticate"}})
    responses.replace(responses.POST, BULK, status=401, json={"error": {"type": "security_exception"}})
    sink = _sink(api_key="c2VjcmV0LWtleQ==")
    with pytest.raises(FatalSinkError, match="refused the credentials") as err:
        sink.send(batch)
    sink.close()
    assert "c2VjcmV0LWtleQ" not in str(err.value)
    # Nothing was acknowledged: with the index and the key fixed, the same record is sent again.
    responses.replace(responses.POST, BULK, json=_items(201))
    sink = _sink(api_key="c2VjcmV0LWtleQ==")
    assert sink.send(batch).delivered == 1
    sink.close()
    Reconciliation.of("search-bulk-missing-index-and-bad-credentials-then-redelivery", batch.ids,
                      _landed(responses.calls)).assert_nothing_lost()


@responses.activate
def test_chunks_are_bounded_by_documents_and_bytes() -> None:
    responses.post(BULK, json={"errors": False})
    sink = ElasticsearchSink(
        _config(bulk_docs=40, bulk_bytes=200_000, concurrency=2), session=requests.Session(), sleep=lambda _s: None
    )
    sink.min_chunk_docs = 1
    assert sink.send(_flows(100)).delivered == 100
    assert sorted(len(_actions(c)) for c in responses.calls) == [20, 40, 40]
    responses.calls.reset()
    small = ElasticsearchSink(
        _config(bulk_docs=1000, bulk_bytes=4096, concurrency=2), session=requests.Session(), sleep=lambda _s: None
    )
    assert small.send(_flows(30)).delivered == 30
    sizes = [len(gzip.decompress(c.request.body)) for c in responses.calls]
    assert len(sizes) > 5 and max(sizes) <= 4096
    assert sum(len(_actions(c)) for c in responses.calls) == 30
    sink.close()
    small.close()


@pytest.mark.parametrize(
    ("settings", "env", "expected"),
    [
        ({"api_key": "abc=="}, {}, "ApiKey abc=="),
        ({"api_key": "id1:key1"}, {}, "ApiKey " + base64.b64encode(b"id1:key1").decode()),
        ({}, {"ES_API_KEY": "fromenv"}, "ApiKey fromenv"),
        ({}, {"ES_USERNAME": "elastic", "ES_PASSWORD": "pw"}, "Basic " + base64.b64encode(b"elastic:pw").decode()),
        ({"bearer_token": "tok"}, {}, "Bearer tok"),
    ],
)
@responses.activate
def test_auth_headers(settings: dict[str, Any], env: dict[str, str], expected: str) -> None:
    responses.post(BULK, json={"errors": False})
    config = SearchSinkConfig.from_settings({"url": URL, **settings}, env, "elasticsearch")
    sink = ElasticsearchSink(config, session=requests.Session())
    sink.send(_flows(1))
    sink.close()
    assert responses.calls[0].request.headers["Authorization"] == expected


@responses.activate
def test_opensearch_basic_auth_from_env_and_sigv4_signing() -> None:
    responses.post(BULK, json={"errors": False})
    config = SearchSinkConfig.from_settings(
        {"url": URL}, {"OPENSEARCH_USERNAME": "admin", "OPENSEARCH_PASSWORD": "pw"}, "opensearch"
    )
    sink = OpenSearchSink(config, session=requests.Session())
    sink.send(_flows(1))
    sink.close()
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    signed = SearchSinkConfig.from_settings(
        {"url": URL, "aws_sigv4": True, "aws_region": "eu-west-1"}, {}, "opensearch"
    )
    creds = Credentials("AKIDEXAMPLE", "secretkeyexample", "sessiontoken")
    sink = OpenSearchSink(signed, session=requests.Session(), credentials=creds)
    sink.send(_flows(1))
    sink.close()
    request = responses.calls[1].request
    auth = request.headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in auth
    assert "content-encoding" in auth and "x-amz-content-sha256" in auth
    assert request.headers["X-Amz-Security-Token"] == "sessiontoken"
    import hashlib

    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(request.body).hexdigest()
    assert "secretkeyexample" not in json.dumps(dict(request.headers))


@pytest.mark.parametrize(
    ("kind", "settings", "env", "message"),
    [
        ("elasticsearch", {}, {}, "elasticsearch.url is required"),
        ("elasticsearch", {"url": "es:9200"}, {}, "elasticsearch.url must start with http"),
        ("elasticsearch", {"url": URL, "namespace": "Prod-1"}, {}, "elasticsearch.namespace"),
        ("elasticsearch", {"url": URL, "bulk_docs": 0}, {}, "elasticsearch.bulk_docs"),
        ("elasticsearch", {"url": URL, "concurrency": "many"}, {}, "elasticsearch.concurrency"),
        ("elasticsearch", {"url": URL, "verify_tls": "maybe"}, {}, "elasticsearch.verify_tls"),
        ("elasticsearch", {"url": URL, "username": "u"}, {}, "username and elasticsearch.password"),
        ("elasticsearch", {"url": URL, "api_key": "k", "bearer_token": "t"}, {}, "one authentication method"),
        ("elasticsearch", {"url": URL, "aws_sigv4": True, "aws_region": "x"}, {}, "aws_sigv4"),
        ("opensearch", {"url": URL, "aws_sigv4": True}, {}, "opensearch.aws_region is required"),
        ("opensearch", {"url": URL}, {"OPENSEARCH_API_KEY": "x"}, None),
        ("opensearch", {"url": URL, "bulk_size": 5}, {}, "unknown setting(s) bulk_size"),
        ("splunk", {"url": URL}, {}, "sink kind"),
        ("elasticsearch", {"url": URL, "compression_level": 10}, {}, "compression_level must be 0 (off) to 9"),
        ("elasticsearch", {"url": URL, "compression_level": -1}, {}, "compression_level must be an integer >= 0"),
    ],
)
def test_invalid_settings_raise_config_error_naming_the_key(
    kind: str, settings: dict[str, Any], env: dict[str, str], message: str | None
) -> None:
    if message is None:  # OPENSEARCH_API_KEY is not read: OpenSearch takes basic, bearer or SigV4
        assert SearchSinkConfig.from_settings(settings, env, kind).api_key is None
        return
    with pytest.raises(ConfigError) as err:
        SearchSinkConfig.from_settings(settings, env, kind)
    assert message in str(err.value)


def test_settings_win_over_env_and_secrets_stay_out_of_repr() -> None:
    config = SearchSinkConfig.from_settings(
        {"url": URL + "/", "password": "file-pw", "username": "u", "namespace": "prod", "data_streams": "false"},
        {"ES_PASSWORD": "env-pw", "ES_URL": "http://other:9200"},
        "elasticsearch",
    )
    assert (config.url, config.password, config.data_streams) == (URL, "file-pw", False)
    assert config.index_for("aws.vpcflow") == "aws_connector.vpcflow-prod"
    assert "file-pw" not in repr(config)
    keyed = SearchSinkConfig.from_settings({"url": URL, "api_key": "sekrit"}, {}, "elasticsearch")
    assert "sekrit" not in repr(keyed)
    assert keyed.index_for("aws.cloudtrail") == "logs-aws_connector.cloudtrail-default"
