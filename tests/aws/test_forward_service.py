"""``forward`` as a subprocess against moto: S3 notifications (direct and SNS-wrapped) -> file sink,
every record once, every message deleted; bad objects, inline payloads, metrics and SIGTERM."""

from __future__ import annotations

import base64
import gzip
import json
import signal
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from connector.config import AppConfig
from connector.demo.estate import DemoManifest
from connector.enrich.geoip import GeoIpSettings
from connector.normalize.vpcflow import record_id_prefix
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sources.sqs import InlinePayload, parse_message
from tests.aws.support import (
    BUCKET,
    dead_letters,
    flow_object,
    make_aws,
    ndjson,
    start_forward,
    wait_for,
)
from tests.faults import Reconciliation, dead_letter_ids
from tests.servers.moto_server import MotoServer

pytestmark = pytest.mark.integration
PROD, DEV = "AWSLogs/111122223333/", "AWSLogs/444455556666/"


def _demo_subset(manifest: DemoManifest) -> list[str]:
    keys = list(manifest.keys)

    def pick(prefix: str, part: str, n: int) -> list[str]:
        return [k for k in keys if k.startswith(prefix) and f"/{part}/" in k][:n]

    return (pick(PROD, "vpcflowlogs", 4) + pick(PROD, "CloudTrail", 4) + pick(PROD, "CloudTrail-Digest", 1)
            + [k for k in keys if k.startswith(PROD + "Config/")]
            + pick(DEV, "vpcflowlogs", 2) + pick(DEV, "CloudTrail", 3) + pick(DEV, "CloudTrail-Insight", 1)
            + [k for k in keys if k.startswith(DEV + "Config/")])


def test_demo_objects_are_delivered_once_and_messages_deleted(
        moto: MotoServer, demo_estate: tuple[Path, DemoManifest], tmp_path: Path) -> None:
    root, manifest = demo_estate
    aws = make_aws(moto, direct_prefix=PROD, sns_prefix=DEV)
    subset = _demo_subset(manifest)
    for key in subset:
        aws.put(key, (root / key).read_bytes())
    assert aws.depth()[0] >= len(subset)

    forward = start_forward(aws, tmp_path, "--idle-exit", "3", "--max-in-flight", "4", "--workers", "2")
    assert forward.wait(60) == 0, forward.log_text()

    flows = list(ndjson(forward.out / "aws.vpcflow.ndjson"))
    trails = list(ndjson(forward.out / "aws.cloudtrail.ndjson"))
    configs = list(ndjson(forward.out / "aws.config.ndjson"))
    expected_flows = sum(manifest.flow_records_per_file.get(k, 0) for k in subset)
    expected_trails = sum(manifest.cloudtrail_records_per_file.get(k, 0) for k in subset) + manifest.insight_records
    expected_configs = sum(manifest.config_items_per_file.get(k, 0) for k in subset)
    assert len(flows) == expected_flows > 0
    assert len({d["event"]["id"] for d in flows}) == expected_flows
    assert len(trails) == expected_trails > 0
    assert len({d["event"]["id"] for d in trails}) == expected_trails
    assert len(configs) == expected_configs > 0
    # A flow record's id starts with a hash of its object's key: each object gave exactly its records.
    per_object = Counter(d["event"]["id"].rsplit("-", 1)[0] + "-" for d in flows)
    for key in subset:
        if key in manifest.flow_records_per_file:
            assert per_object[record_id_prefix(key)] == manifest.flow_records_per_file[key], key
    assert dead_letters(tmp_path) == []
    assert aws.depth() == (0, 0)
    log = forward.log_text()
    assert "S3 test event" in log  # the notification configuration's test events were skipped by rule


def _logs_payload(group: str, stream: str, messages: list[str], kind: str = "DATA_MESSAGE") -> str:
    page = {"messageType": kind, "owner": "111122223333", "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["to-siem"],
            "logEvents": [{"id": f"3{n:055d}", "timestamp": 1795000000000 + n, "message": m}
                          for n, m in enumerate(messages)]}
    return base64.b64encode(gzip.compress(json.dumps(page).encode())).decode()


def _inline_ids(*bodies: str, formats: dict[str, str] | None = None) -> list[str]:
    """The record ids the reader gives inline payloads (Config notifications, log pages) in memory."""
    processor = RecordProcessor(AppConfig(geoip=GeoIpSettings(city_db=None)))
    ids: list[str] = []
    try:
        for body in bodies:
            plan = parse_message(body, "m", formats)
            assert isinstance(plan, InlinePayload), plan
            ids += [i for item in processor.process(plan.unit()) if isinstance(item, NormalizedChunk)
                    for i in item.ids]
    finally:
        processor.close()
    return ids


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.faults
def test_inline_payloads_missing_objects_and_junk_settle_with_metrics_then_sigterm(
        moto: MotoServer, demo_estate: tuple[Path, DemoManifest], tmp_path: Path) -> None:
    root, _manifest = demo_estate
    aws = make_aws(moto)
    sns = moto.client("sns")
    topic = sns.create_topic(Name="config-changes")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=aws.queue_arn)
    # AWS Config notifications: one SNS-wrapped (through the topic), one raw.
    change = (root / "sqs-notifications/config-item-change-bastion-sg.json").read_text()
    compliance = (root / "sqs-notifications/config-compliance-change-restricted-ssh.json").read_text()
    sns.publish(TopicArn=topic, Message=change)
    aws.send(compliance)
    aws.send(json.dumps({"messageType": "ConfigurationSnapshotDeliveryCompleted", "notificationCreationTime": "x"}))
    # CloudWatch Logs subscription pages: flow lines (custom format of its group) and a control message.
    flow_lines = [f"111122223333 eni-0a1b2c3d4e5f60718 203.0.113.{n} 10.0.0.{n} REJECT" for n in range(1, 6)]
    page = _logs_payload("/vpc/prod/flowlogs", "eni-0a1b2c3d4e5f60718-all", flow_lines)
    aws.send(page)
    aws.send(_logs_payload("/vpc/prod/flowlogs", "eni-0a1b2c3d4e5f60718-all", ["CWL CONTROL MESSAGE"],
                           "CONTROL_MESSAGE"))
    # An S3 notification for an object that does not exist, with an URL-encoded key, and junk.
    missing_key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/gone file+1.log.gz"
    aws.send(json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": BUCKET}, "object": {"key": "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/"
                                                      "gone+file%2B1.log.gz", "size": 10}}}]}))
    junk_id = aws.send("this is not an AWS message")

    port = _free_port()
    config = tmp_path / "connector.yaml"
    config.write_text("normalize:\n  log_group_formats:\n    /vpc/prod/flowlogs: "
                      "'${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}'\n"
                      "forward:\n  metrics_host: 127.0.0.1\n")
    forward = start_forward(aws, tmp_path, "--metrics-port", str(port), "--config", str(config))
    try:
        wait_for(lambda: aws.depth() == (0, 0) and len(dead_letters(tmp_path)) >= 2, 30, "an empty queue", forward)
        wait_for(lambda: b"in_flight_messages 0" in _get(port, "/metrics")[1], 10, "no message in flight", forward)
        status, health = _get(port, "/healthz")
        assert status == 200 and health == b"ok\n"
        metrics = _get(port, "/metrics")[1].decode()
        forward.signal(signal.SIGTERM)
        assert forward.wait(30) == 0, forward.log_text()
    finally:
        forward.stop()

    configs = list(ndjson(forward.out / "aws.config.ndjson"))
    assert len(configs) == 2, configs
    flows = list(ndjson(forward.out / "aws.vpcflow.ndjson"))
    assert sorted(d["source"]["ip"] for d in flows) == sorted(f"203.0.113.{n}" for n in range(1, 6))
    assert {d["event"]["action"] for d in flows} == {"REJECT"}
    assert len({d["event"]["id"] for d in flows}) == 5

    letters = dead_letters(tmp_path)
    assert len(letters) == 2, letters
    missing = next(x for x in letters if missing_key in x["origin"])
    assert "NoSuchKey" in missing["reason"], missing
    junk = next(x for x in letters if x["location"] == f"message {junk_id}")
    assert junk["record"] == "this is not an AWS message"
    assert "deleted" in junk["reason"]

    formats = {"/vpc/prod/flowlogs": "${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}"}
    records = [*_inline_ids(change, compliance), *_inline_ids(page, formats=formats),
               f"s3://{BUCKET}/{missing_key}", f"{aws.queue_url} message {junk_id}"]
    arrived = [d["event"]["id"] for d in configs + flows]
    Reconciliation.of("forward-junk-missing-object-and-sigterm", records, arrived,
                      dead_letter_ids(letters)).assert_nothing_lost()

    assert 'records_in_total{dataset="aws.config"} 2' in metrics
    assert 'records_out_total{dataset="aws.vpcflow"} 5' in metrics
    assert 'records_dead_lettered_total{dataset="aws.vpcflow"} 1' in metrics
    assert 'messages_total{outcome="skipped"} 2' in metrics
    assert 'messages_total{outcome="dead_lettered"} 1' in metrics
    assert 'messages_total{outcome="deleted"} 4' in metrics
    assert "aws_siem_connector_batch_latency_seconds_count 3" in metrics
    assert "aws_siem_connector_queue_lag_seconds" in metrics
    assert "stopping: received SIGTERM" in forward.log_text()


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except OSError:
        return 0, b""


def test_heartbeat_keeps_a_slow_message_from_a_second_receive(moto: MotoServer, tmp_path: Path) -> None:
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    aws.drain_test_events()
    key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/slow.log.gz"
    lines = 120_000
    aws.put(key, flow_object(lines))
    # Two places in flight and two workers: without the heartbeat the message would reappear
    # after 2 s and be processed a second time while the first pass is still running.
    forward = start_forward(aws, tmp_path, "--visibility-timeout", "2", "--max-in-flight", "2", "--workers", "2",
                            "--idle-exit", "3")
    assert forward.wait(60) == 0, forward.log_text()
    ids = Counter(d["event"]["id"] for d in ndjson(forward.out / "aws.vpcflow.ndjson"))
    assert len(ids) == lines
    assert max(ids.values()) == 1
    assert "1 messages received" in forward.log_text()
    assert aws.depth() == (0, 0)


@pytest.mark.faults
def test_sigterm_finishes_the_message_in_work_and_exits_0(moto: MotoServer, tmp_path: Path) -> None:
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    aws.drain_test_events()
    key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/medium.log.gz"
    lines = 60_000
    aws.put(key, flow_object(lines, seed=3))
    forward = start_forward(aws, tmp_path, "--workers", "1")
    out = forward.out / "aws.vpcflow.ndjson"
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 0, 30, "the first batch", forward)
        forward.signal(signal.SIGTERM)
        assert forward.wait(30) == 0, forward.log_text()
    finally:
        forward.stop()
    arrived = [d["event"]["id"] for d in ndjson(out)]
    prefix = record_id_prefix(key)
    assert set(arrived) == {f"{prefix}{n}" for n in range(2, lines + 2)}
    assert aws.depth() == (0, 0)
    Reconciliation.of("forward-sigterm-mid-object", {f"{prefix}{n}" for n in range(2, lines + 2)}, arrived,
                      dead_letter_ids(dead_letters(tmp_path), prefix)).assert_nothing_lost()
