"""Dead letters in S3 (moto over HTTP): one object per write, read back by replay-dlq, and the
Lambda function's dead letters outliving it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from connector import aws_lambda
from connector.cli import main
from connector.dlq import DeadLetterStore
from connector.errors import SinkError
from connector.normalize.vpcflow import record_id_prefix
from connector.sinks.base import DeadLetter
from tests.faults import Reconciliation, dead_letter_ids
from tests.search.ecs_docs import flow_doc
from tests.servers.moto_server import MotoServer

FLOW_KEY = ("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/"
            "111122223333_vpcflowlogs_us-east-1_fl-1_20261127T0000Z_ab.log.gz")


def _objects(moto: MotoServer, bucket: str, prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    s3 = moto.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {k: [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=k)["Body"].read().splitlines()]
            for k in sorted(keys)}


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    moto.client("s3").create_bucket(Bucket="siem-dlq")
    return moto


def test_each_write_is_one_object_under_the_prefix(aws_env: MotoServer) -> None:
    store = DeadLetterStore("s3://siem-dlq/dead-letters/")
    store.write([DeadLetter(flow_doc(1), "HTTP 400 one", "s3://logs/a", "x"),
                 DeadLetter(flow_doc(2), "HTTP 400 two", "s3://logs/a", "y")])
    store.write([])  # nothing to store: no object
    store.write([DeadLetter("raw line", "wrong field count", "s3://logs/b", "line 3")])
    store.close()
    objects = _objects(aws_env, "siem-dlq")
    assert len(objects) == 2 and store.count == 3
    assert all(k.startswith("dead-letters/20") and k.endswith(".ndjson") for k in objects)
    first, second = sorted(objects.values(), key=len, reverse=True)
    assert [e["reason"] for e in first] == ["HTTP 400 one", "HTTP 400 two"]
    assert first[0]["record"] == flow_doc(1)
    assert second[0]["record"] == "raw line" and second[0]["location"] == "line 3"


@pytest.mark.faults
def test_a_store_that_cannot_write_raises_so_nothing_is_acknowledged(aws_env: MotoServer) -> None:
    store = DeadLetterStore("s3://no-such-bucket/dead")
    with pytest.raises(SinkError, match="dead-letter store s3://no-such-bucket/dead: cannot write"):
        store.write([DeadLetter("x", "r", "o", "l")])


@pytest.mark.faults
def test_replay_reads_every_object_under_the_prefix(aws_env: MotoServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    store = DeadLetterStore("s3://siem-dlq/dead")
    store.write([DeadLetter(flow_doc(n), "HTTP 503", "s3://logs/a", "x") for n in range(3)])
    store.write([DeadLetter("2 123 eni-1", "wrong field count", "s3://logs/b", "line 9")])
    out, left = tmp_path / "out", "s3://siem-dlq/remaining"
    code = main(["replay-dlq", "s3://siem-dlq/dead", "--sink", "file", "--out", str(out), "--dlq", left])
    assert code == 1
    assert [json.loads(line) for line in (out / "aws.vpcflow.ndjson").read_text().splitlines()] == [
        flow_doc(n) for n in range(3)]
    (kept,) = _objects(aws_env, "siem-dlq", "remaining/").values()
    assert [e["record"] for e in kept] == ["2 123 eni-1"]
    assert len(_objects(aws_env, "siem-dlq", "dead/")) == 2  # the input is left as it was
    assert capsys.readouterr().err.strip().endswith(
        f"replayed 4 dead letters: delivered 3, refused again 0, not replayable 1, unreadable 0; 1 kept in {left}")
    source = dead_letter_ids(e for entries in _objects(aws_env, "siem-dlq", "dead/").values() for e in entries)
    delivered = [json.loads(line)["event"]["id"] for line in (out / "aws.vpcflow.ndjson").read_text().splitlines()]
    with capsys.disabled():  # the scenario line goes to the terminal, not to the captured output
        Reconciliation.of("replay-dlq-from-s3", source, delivered, dead_letter_ids(kept)).assert_nothing_lost()
    # Remaining letters may not go under the prefix being read.
    assert main(["replay-dlq", "s3://siem-dlq/dead", "--sink", "file", "--dlq", "s3://siem-dlq/dead/again"]) == 2
    assert "under the prefix being replayed" in capsys.readouterr().err
    assert main(["replay-dlq", "s3://siem-dlq/nothing-here", "--sink", "file", "--out", str(out)]) == 2
    assert "no dead-letter objects under s3://siem-dlq/nothing-here" in capsys.readouterr().err


@pytest.mark.faults
def test_lambda_dead_letters_go_to_s3(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s3 = aws_env.client("s3")
    s3.create_bucket(Bucket="siem-logs")
    header = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end"
              " action log-status")
    good = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1795773600 1795773660 ACCEPT OK"
    bad = "2 111122223333 eni-1 10.0.0.1"
    body = gzip.compress(f"{header}\n{good}\n{bad}\n".encode())
    s3.put_object(Bucket="siem-logs", Key=FLOW_KEY, Body=body)
    for key, value in {"AWS_SIEM_CONNECTOR_SINK__TYPE": "file", "AWS_SIEM_CONNECTOR_FILE__OUT": str(tmp_path / "out"),
                       "AWS_SIEM_CONNECTOR_GEOIP__CITY_DB": "none",
                       "AWS_SIEM_CONNECTOR_DLQ__PATH": "s3://siem-dlq/lambda"}.items():
        monkeypatch.setenv(key, value)
    aws_lambda.reset()
    try:
        event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                              "s3": {"bucket": {"name": "siem-logs"}, "object": {"key": FLOW_KEY, "size": len(body)}}}]}
        aws_lambda.handler(event, None)
    finally:
        aws_lambda.reset()
    (letters,) = _objects(aws_env, "siem-dlq", "lambda/").values()
    assert [(e["origin"], e["location"], e["record"]) for e in letters] == [
        (f"s3://siem-logs/{FLOW_KEY}", "line 3", bad)]
    assert len((tmp_path / "out" / "aws.vpcflow.ndjson").read_text().splitlines()) == 1
    prefix = record_id_prefix(FLOW_KEY)
    delivered = [json.loads(line)["event"]["id"] for line in (tmp_path / "out" / "aws.vpcflow.ndjson").open()]
    Reconciliation.of("lambda-dead-letters-in-s3", [prefix + "2", prefix + "3"], delivered,
                      dead_letter_ids(letters, prefix)).assert_nothing_lost()
