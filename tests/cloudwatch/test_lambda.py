"""``connector.aws_lambda.handler`` with recorded event payloads of each kind; S3 objects are read
from moto over HTTP, documents land in a file sink, partial failures come back as batchItemFailures."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import aws_lambda
from connector.errors import SinkError
from connector.normalize.vpcflow import record_id_prefix
from connector.sinks.base import Batch, Delivery
from connector.sinks.factory import build_sink
from connector.sinks.file import FileSink
from tests.cloudwatch.conftest import (
    ACCOUNT,
    EVENTS,
    b64,
    event_id,
    flow_line,
    read_ndjson,
    subscription_payload,
    trail_line,
)
from tests.faults import Reconciliation, dead_letter_ids
from tests.servers.moto_server import MotoServer

FLOW_KEY = (f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2024/05/01/"
            f"{ACCOUNT}_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1200Z_5f1c2e3d.log.gz")
TRAIL_KEY = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/05/01/"
             f"{ACCOUNT}_CloudTrail_us-east-1_20240501T1200Z_AbCdEf0123456789.json.gz")
FLOW_HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
               "start end action log-status")
TRAIL_IDS = ["3f0e1c2a-0000-4000-8000-000000000001", "3f0e1c2a-0000-4000-8000-000000000002"]
GROUP = "/aws/vpc/flowlogs/prod"


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


FLOW_IDS = [record_id_prefix(FLOW_KEY) + str(n) for n in (2, 3, 4)]


def _reconcile(scenario: str, root: Path, source: list[str], dead: list[str] | None = None) -> None:
    """What the file sink and the dead-letter file hold, against the records the event stands for."""
    delivered = [d["event"]["id"] for d in _flow_docs(root) + _trail_docs(root)]
    letters = dead_letter_ids(_dead_letters(root), record_id_prefix(FLOW_KEY)) if dead is None else dead
    Reconciliation.of(scenario, source, delivered, letters).assert_nothing_lost()


def _retry(root: Path, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
           failures: list[dict[str, str]] | None = None) -> None:
    """Lambda invokes the function again with what was not settled, the sink working by then."""
    monkeypatch.setattr(aws_lambda, "build_sink", build_sink)
    aws_lambda.reset()
    if failures is not None:
        failed = {f["itemIdentifier"] for f in failures}
        event = {"Records": [r for r in event["Records"]
                             if (r.get("messageId") or r.get("kinesis", {}).get("sequenceNumber")) in failed]}
        assert aws_lambda.handler(event, None) == {"batchItemFailures": []}
    else:
        aws_lambda.handler(event, None)


@pytest.fixture
def lambda_env(aws: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The function's environment: file sink under tmp_path, dead letters to a file, moto for S3."""
    out = tmp_path / "out"
    for key, value in {
        "AWS_SIEM_CONNECTOR_SINK__TYPE": "file",
        "AWS_SIEM_CONNECTOR_FILE__OUT": str(out),
        "AWS_SIEM_CONNECTOR_GEOIP__CITY_DB": "none",
        "AWS_SIEM_CONNECTOR_DLQ__PATH": str(tmp_path / "dlq.ndjson"),
    }.items():
        monkeypatch.setenv(key, value)
    s3 = aws.client("s3")
    for bucket in ("siem-flowlogs", "siem-trails"):
        s3.create_bucket(Bucket=bucket)
    flow = "\n".join([FLOW_HEADER, *(flow_line(n) for n in range(1, 4))]) + "\n"
    s3.put_object(Bucket="siem-flowlogs", Key=FLOW_KEY, Body=gzip.compress(flow.encode()))
    trail = {"Records": [json.loads(trail_line(i)) for i in TRAIL_IDS]}
    s3.put_object(Bucket="siem-trails", Key=TRAIL_KEY, Body=gzip.compress(json.dumps(trail).encode()))
    aws_lambda.reset()
    yield tmp_path
    aws_lambda.reset()


def _flow_docs(root: Path) -> list[dict[str, Any]]:
    return read_ndjson(root / "out" / "aws.vpcflow.ndjson")


def _trail_docs(root: Path) -> list[dict[str, Any]]:
    return read_ndjson(root / "out" / "aws.cloudtrail.ndjson")


def _dead_letters(root: Path) -> list[dict[str, Any]]:
    return read_ndjson(root / "dlq.ndjson")


class FailingSink:
    """A file sink that fails (retries exhausted) for any batch holding a record from ``poison``."""

    def __init__(self, out: Path, poison: str) -> None:
        self.inner = FileSink(out)
        self.poison = poison
        self.sends = 0

    def send(self, batch: Batch) -> Delivery:
        self.sends += 1
        if any(self.poison in origin for origin in batch.origins):
            raise SinkError("HEC answered 503 five times; giving up")
        return self.inner.send(batch)

    def close(self) -> None:
        self.inner.close()


def _failing_sink(monkeypatch: pytest.MonkeyPatch, root: Path, poison: str) -> FailingSink:
    sink = FailingSink(root / "out", poison)
    monkeypatch.setattr(aws_lambda, "build_sink", lambda *args, **kwargs: sink)
    return sink


def test_s3_put_event_reads_the_object_from_s3(lambda_env: Path) -> None:
    result = aws_lambda.handler(_event("s3-put.json"), None)
    assert result == {"summary": "read 3, written 3, skipped 0, dead-lettered 0 (1 objects)"}
    docs = _flow_docs(lambda_env)
    prefix = record_id_prefix(FLOW_KEY)
    assert [d["event"]["id"] for d in docs] == [prefix + "2", prefix + "3", prefix + "4"]


@pytest.mark.faults
def test_s3_event_raises_when_the_sink_fails_so_lambda_retries(lambda_env: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_sink(monkeypatch, lambda_env, "siem-flowlogs")
    with pytest.raises(RuntimeError, match="not every record was settled"):
        aws_lambda.handler(_event("s3-put.json"), None)
    _retry(lambda_env, _event("s3-put.json"), monkeypatch)
    _reconcile("lambda-s3-event-sink-down-then-retry", lambda_env, FLOW_IDS)


def test_sqs_s3_notifications_all_settle(lambda_env: Path) -> None:
    result = aws_lambda.handler(_event("sqs-s3-notification.json"), None)
    assert result == {"batchItemFailures": []}
    assert [d["event"]["id"] for d in _trail_docs(lambda_env)] == TRAIL_IDS
    assert len(_flow_docs(lambda_env)) == 3


@pytest.mark.faults
def test_sqs_sns_wrapped_and_unreadable_body(lambda_env: Path) -> None:
    result = aws_lambda.handler(_event("sqs-sns-wrapped.json"), None)
    # The unreadable body is dead-lettered by rule: settled, so not returned for a retry.
    assert result == {"batchItemFailures": []}
    assert len(_flow_docs(lambda_env)) == 3
    dead = _dead_letters(lambda_env)
    assert len(dead) == 1
    assert dead[0]["record"] == "this is not a notification"
    assert dead[0]["origin"] == "sqs://siem-ingest/7e1f0c2b-9a8d-4c3b-8e7f-000000000002"
    _reconcile("lambda-sqs-unreadable-body", lambda_env,
               [*FLOW_IDS, "sqs://siem-ingest/7e1f0c2b-9a8d-4c3b-8e7f-000000000002"])


@pytest.mark.faults
def test_sqs_object_gone_is_dead_lettered_not_retried(lambda_env: Path, aws: MotoServer) -> None:
    aws.client("s3").delete_object(Bucket="siem-trails", Key=TRAIL_KEY)
    result = aws_lambda.handler(_event("sqs-s3-notification.json"), None)
    assert result == {"batchItemFailures": []}
    assert _trail_docs(lambda_env) == []
    assert [d["origin"] for d in _dead_letters(lambda_env)] == [f"s3://siem-trails/{TRAIL_KEY}"]
    # The object is gone with its records: the dead letter stands for the whole object.
    _reconcile("lambda-sqs-object-gone", lambda_env, [*FLOW_IDS, f"s3://siem-trails/{TRAIL_KEY}"])


@pytest.mark.faults
def test_sqs_partial_failure_reports_only_unsettled_messages(lambda_env: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sink = _failing_sink(monkeypatch, lambda_env, "siem-trails")
    event = _event("sqs-s3-notification.json")
    # Flow-log message first, then the trail message the sink fails on, then the test event.
    first, test_event, flow = event["Records"]
    event["Records"] = [flow, first, test_event]
    result = aws_lambda.handler(event, None)
    # The sink is down after retries: the failing message and the ones after it are left for a retry.
    assert result == {"batchItemFailures": [{"itemIdentifier": "4d8f6a52-1c1e-4b8e-9f0a-000000000001"},
                                            {"itemIdentifier": "4d8f6a52-1c1e-4b8e-9f0a-000000000002"}]}
    assert len(_flow_docs(lambda_env)) == 3
    assert _trail_docs(lambda_env) == []
    assert sink.sends == 2  # the flow-log message, then the trail message that failed; nothing after
    _retry(lambda_env, event, monkeypatch, result["batchItemFailures"])
    _reconcile("lambda-sqs-partial-failure-then-retry", lambda_env, [*FLOW_IDS, *TRAIL_IDS])


@pytest.mark.faults
def test_sqs_failure_of_the_last_message_fails_only_it(lambda_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_sink(monkeypatch, lambda_env, "siem-flowlogs")
    result = aws_lambda.handler(_event("sqs-s3-notification.json"), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "4d8f6a52-1c1e-4b8e-9f0a-000000000003"}]}
    assert [d["event"]["id"] for d in _trail_docs(lambda_env)] == TRAIL_IDS
    _retry(lambda_env, _event("sqs-s3-notification.json"), monkeypatch, result["batchItemFailures"])
    _reconcile("lambda-sqs-last-message-fails-then-retry", lambda_env, [*FLOW_IDS, *TRAIL_IDS])


def test_cloudwatch_logs_subscription_event(lambda_env: Path) -> None:
    event = _event("cloudwatch-logs.json")
    events = [(event_id(n), flow_line(n)) for n in range(1, 4)]
    event["awslogs"]["data"] = b64(subscription_payload(GROUP, "eni-1-all", events))
    result = aws_lambda.handler(event, None)
    assert result == {"summary": "read 3, written 3, skipped 0, dead-lettered 0 (1 objects)"}
    prefix = record_id_prefix(f"{GROUP}/eni-1-all")
    assert [d["event"]["id"] for d in _flow_docs(lambda_env)] == [prefix + event_id(n) for n in range(1, 4)]


def test_cloudwatch_control_message_is_skipped(lambda_env: Path) -> None:
    event = _event("cloudwatch-logs.json")
    event["awslogs"]["data"] = b64(subscription_payload(GROUP, "", [(event_id(1), "CWL CONTROL MESSAGE")],
                                                        message_type="CONTROL_MESSAGE"))
    result = aws_lambda.handler(event, None)
    assert result == {"summary": "read 1, written 0, skipped 1, dead-lettered 0 (0 objects); skipped by rule: "
                                 "CloudWatch Logs CONTROL_MESSAGE (subscription reachability check, no events)=1"}
    assert _flow_docs(lambda_env) == []


def _kinesis_ids(groups: list[str]) -> list[str]:
    """The record ids of ``_kinesis_event``'s flow lines: their stream's prefix and event id."""
    return [record_id_prefix(f"{group}/stream-{n}") + event_id(10 * n + i)
            for n, group in enumerate(groups, 1) for i in range(2)]


def _kinesis_event(groups: list[str]) -> dict[str, Any]:
    event = _event("kinesis.json")
    for n, (record, group) in enumerate(zip(event["Records"], groups, strict=True), 1):
        payload = subscription_payload(group, f"stream-{n}", [(event_id(10 * n + i), flow_line(10 * n + i))
                                                              for i in range(2)])
        record["kinesis"]["data"] = b64(payload)
    return event


@pytest.mark.faults
def test_kinesis_records_all_settle(lambda_env: Path) -> None:
    groups = [GROUP, GROUP, "/aws/cloudtrail/org"]
    result = aws_lambda.handler(_kinesis_event(groups), None)
    assert result == {"batchItemFailures": []}
    assert len(_flow_docs(lambda_env)) == 4
    # The third payload holds flow lines in a group named for CloudTrail: each line is dead-lettered.
    letters = _dead_letters(lambda_env)
    assert len(letters) == 2
    third = _kinesis_ids(groups)[4:]
    dead = [third[int(d["location"].split()[-1]) - 1] for d in letters if d["origin"].endswith("/stream-3")]
    _reconcile("lambda-kinesis-flow-lines-in-a-trail-group", lambda_env, _kinesis_ids(groups), dead)


@pytest.mark.faults
def test_kinesis_partial_failure_returns_sequence_numbers_from_the_failure_on(
        lambda_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_sink(monkeypatch, lambda_env, "stream-2")
    event = _kinesis_event([GROUP, GROUP, GROUP])
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    result = aws_lambda.handler(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": seqs[1]}, {"itemIdentifier": seqs[2]}]}
    prefix = record_id_prefix(f"{GROUP}/stream-1")
    assert [d["event"]["id"] for d in _flow_docs(lambda_env)] == [prefix + event_id(10), prefix + event_id(11)]
    _retry(lambda_env, event, monkeypatch, result["batchItemFailures"])
    _reconcile("lambda-kinesis-partial-failure-then-retry", lambda_env, _kinesis_ids([GROUP, GROUP, GROUP]))


@pytest.mark.faults
def test_kinesis_record_that_is_not_a_payload_is_dead_lettered(lambda_env: Path) -> None:
    event = _kinesis_event([GROUP, GROUP, GROUP])
    event["Records"][1]["kinesis"]["data"] = b64(b"plain text, not a subscription payload")
    assert aws_lambda.handler(event, None) == {"batchItemFailures": []}
    assert len(_flow_docs(lambda_env)) == 4
    dead = _dead_letters(lambda_env)
    assert len(dead) == 1 and "not a CloudWatch Logs subscription payload" in dead[0]["reason"]
    ids = _kinesis_ids([GROUP, GROUP, GROUP])
    _reconcile("lambda-kinesis-record-not-a-payload", lambda_env, [*ids[:2], *ids[4:], dead[0]["origin"]])


def test_processor_and_sink_are_built_once_per_container(lambda_env: Path) -> None:
    aws_lambda.handler(_event("s3-put.json"), None)
    runtime = aws_lambda._RUNTIME
    aws_lambda.handler(copy.deepcopy(_event("s3-put.json")), None)
    assert runtime is not None and aws_lambda._RUNTIME is runtime
    assert len(_flow_docs(lambda_env)) == 6  # redelivery: same ids, the destination deduplicates


def test_missing_sink_type_is_a_configuration_error(lambda_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SIEM_CONNECTOR_SINK__TYPE")
    with pytest.raises(Exception, match="AWS_SIEM_CONNECTOR_SINK__TYPE"):
        aws_lambda.handler(_event("s3-put.json"), None)


def test_unknown_event_is_refused(lambda_env: Path) -> None:
    with pytest.raises(ValueError, match="unrecognised event"):
        aws_lambda.handler({"hello": "world"}, None)


def test_filter_rules_from_the_configuration_file_apply_in_lambda(lambda_env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rules = lambda_env / "connector.yaml"
    rules.write_text("filters:\n  - name: drop-one-host\n    when: {source.ip: {in: [10.0.1.3]}}\n    action: drop\n")
    monkeypatch.setenv("AWS_SIEM_CONNECTOR_CONFIG", str(rules))
    aws_lambda.reset()
    result = aws_lambda.handler(_event("s3-put.json"), None)
    assert result == {"summary": "read 3, written 2, skipped 1, dead-lettered 0 (1 objects); "
                                 "skipped by rule: drop-one-host=1"}
    prefix = record_id_prefix(FLOW_KEY)
    assert [d["source"]["ip"] for d in _flow_docs(lambda_env)] == ["10.0.1.2", "10.0.1.4"]
    assert [d["event"]["id"] for d in _flow_docs(lambda_env)] == [prefix + "2", prefix + "4"]
    assert _dead_letters(lambda_env) == []
