"""HecSinkConfig validation, token handling and the event rendering that needs no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.sinks.base import Batch
from connector.sinks.splunk_hec import HecSink
from connector.sinks.splunk_hec_config import HecSinkConfig
from tests.splunk.samples import config_item, expected_time, mixed_batch, vpcflow

TOKEN = "99999999-8888-7777-6666-555555555555"
BASE = {"hec_url": "https://splunk.example.test:8088", "token": TOKEN}


def _config(**overrides: Any) -> HecSinkConfig:
    return HecSinkConfig.from_settings({**BASE, **overrides}, env={})


def _lines(sink: HecSink, batch: Batch) -> list[dict[str, Any]]:
    body = sink.preview(batch).split("\n\n", 1)[1]
    return [json.loads(line) for line in body.splitlines() if line.startswith("{")]


def test_defaults() -> None:
    cfg = _config()
    assert cfg.hec_url == "https://splunk.example.test:8088"
    assert (cfg.mode, cfg.batch_events, cfg.batch_bytes, cfg.flush_interval) == ("ecs", 5000, 900_000, 1.0)
    assert (cfg.ack, cfg.ack_timeout, cfg.concurrency, cfg.verify_tls, cfg.ca_bundle) == (
        False, 60.0, 4, True, None)
    assert (cfg.indexed_fields, cfg.max_retries, cfg.retry_max_seconds, cfg.gzip) == ((), 8, 120.0, True)
    assert cfg.indexes == {} and cfg.default_index is None and cfg.host


def test_url_with_endpoint_path_is_reduced_to_base() -> None:
    assert _config(hec_url="https://h:8088/services/collector/event/").hec_url == "https://h:8088"


def test_token_from_environment_when_missing_in_file() -> None:
    settings = {"hec_url": "https://h:8088"}
    assert HecSinkConfig.from_settings(settings, env={"SPLUNK_HEC_TOKEN": TOKEN}).token == TOKEN
    from_file = HecSinkConfig.from_settings({**settings, "token": "file-token"}, env={"SPLUNK_HEC_TOKEN": TOKEN})
    assert from_file.token == "file-token"


def test_missing_token_names_both_places() -> None:
    with pytest.raises(ConfigError, match=r"token.*SPLUNK_HEC_TOKEN"):
        HecSinkConfig.from_settings({"hec_url": "https://h:8088"}, env={})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("hec_url", "ftp://h"),
        ("hec_url", None),
        ("mode", "raw"),
        ("batch_events", 0),
        ("batch_events", "many"),
        ("batch_events", 2.5),
        ("batch_bytes", 10),
        ("flush_interval", -1),
        ("ack", "maybe"),
        ("ack_timeout", "soon"),
        ("concurrency", 500),
        ("verify_tls", 3),
        ("ca_bundle", "/nonexistent/ca.pem"),
        ("indexes", {"aws.guardduty": "gd"}),
        ("indexes", ["main"]),
        ("default_index", 7),
        ("indexed_fields", [1, 2]),
        ("max_retries", -1),
        ("retry_max_seconds", "forever"),
        ("verfy_tls", False),
    ],
)
def test_invalid_values_name_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        _config(**{key: value})
    assert key in str(err.value)


def test_strings_from_environment_style_settings_are_parsed() -> None:
    cfg = _config(ack="true", concurrency="8", ack_timeout="2.5", indexed_fields="source.ip, event.action")
    assert (cfg.ack, cfg.concurrency, cfg.ack_timeout) == (True, 8, 2.5)
    assert cfg.indexed_fields == ("source.ip", "event.action")


def test_token_is_masked_everywhere() -> None:
    cfg = _config()
    sink = HecSink(cfg)
    try:
        preview = sink.preview(mixed_batch(2, 2, 2))
        assert TOKEN not in repr(cfg) and TOKEN not in str(cfg)
        assert TOKEN not in repr(sink)
        assert TOKEN not in preview
        assert "Authorization: Splunk ********" in preview
    finally:
        sink.close()
    with pytest.raises(ConfigError) as err:
        HecSinkConfig.from_settings({**BASE, "token": 12345}, env={})
    assert "12345" not in str(err.value)


def test_preview_renders_the_first_request() -> None:
    batch = mixed_batch(30, 0, 0)
    sink = HecSink(_config(batch_events=10, indexes={"aws.vpcflow": "netflow"}, host="fwd-1"))
    preview = sink.preview(batch)
    assert preview.startswith("POST https://splunk.example.test:8088/services/collector/event\n")
    assert f"X-Splunk-Request-Channel: {sink.channel}" in preview
    assert "Content-Encoding: gzip" in preview
    lines = _lines(sink, batch)
    assert len(lines) == 10
    for line, doc in zip(lines, batch.docs, strict=False):
        assert line == {
            "time": expected_time(doc),
            "host": "fwd-1",
            "source": batch.origins[0],
            "sourcetype": "aws:connector:vpcflow",
            "index": "netflow",
            "event": json.loads(json.dumps(doc)),
        }


def test_index_falls_back_to_default_then_omitted() -> None:
    batch = mixed_batch(1, 1, 1)
    lines = _lines(HecSink(_config(indexes={"aws.cloudtrail": "trail"}, default_index="aws")), batch)
    assert [x.get("index") for x in lines] == ["aws", "trail", "aws"]
    assert all("index" not in x for x in _lines(HecSink(_config()), batch))


@pytest.mark.parametrize(
    ("timestamp", "epoch"),
    [
        ("2026-11-27T10:00:00.000Z", 1795773600.0),
        ("2026-11-27T10:00:00Z", 1795773600.0),
        ("2026-11-27T10:00:00.5Z", 1795773600.5),
        ("2026-11-27T10:00:00.123456Z", 1795773600.123),
        ("2026-11-27T11:00:00.250+01:00", 1795773600.25),
        ("1970-01-01T00:00:00.001Z", 0.001),
    ],
)
def test_time_is_epoch_seconds_with_millis(timestamp: str, epoch: float) -> None:
    doc, raw = vpcflow(0)
    doc["@timestamp"] = timestamp
    batch = Batch()
    batch.add(doc, "aws.vpcflow", "s3://b/k", raw)
    (line,) = _lines(HecSink(_config()), batch)
    assert line["time"] == epoch
    assert sink_text_time(batch) == f"{epoch:.3f}"


def sink_text_time(batch: Batch) -> str:
    body = HecSink(_config()).preview(batch).split("\n\n", 1)[1]
    return body.split('"time":', 1)[1].split(",", 1)[0]


def test_missing_or_bad_timestamp_leaves_time_to_hec() -> None:
    batch = Batch()
    for ts in (None, "yesterday", "2026-13-45T99:00:00Z"):
        doc, raw = vpcflow(1)
        if ts is None:
            del doc["@timestamp"]
        else:
            doc["@timestamp"] = ts
        batch.add(doc, "aws.vpcflow", "s3://b/k", raw)
    lines = _lines(HecSink(_config()), batch)
    assert len(lines) == 3 and all("time" not in x for x in lines)


def test_splunk_ta_aws_sourcetypes_and_config_notification_rule() -> None:
    batch = Batch()
    item, raw_item, item_origin = config_item(1, notification=False)
    note, raw_note, note_origin = config_item(2, notification=True)
    batch.add(item, "aws.config", item_origin, raw_item)
    batch.add(note, "aws.config", note_origin, raw_note)
    # No marker in the document: the SQS origin alone makes it a notification.
    bare, raw_bare, _ = config_item(3, notification=False)
    batch.add(bare, "aws.config", "sqs://config-queue", raw_bare)
    flow, raw_flow = vpcflow(1)
    batch.add(flow, "aws.vpcflow", "logs://vpc-flow/eni-1", raw_flow)
    sink = HecSink(_config(mode="splunk_ta_aws"))
    assert sink.needs_originals
    lines = _lines(sink, batch)
    assert [x["sourcetype"] for x in lines] == [
        "aws:config", "aws:config:notification", "aws:config:notification", "aws:cloudwatchlogs:vpcflow"]
    assert [x["event"] for x in lines] == [raw_item, raw_note, raw_bare, raw_flow]
    assert lines[3]["fields"]["source.geo.country_iso_code"] == "DE"
    assert lines[3]["fields"]["source.as.organization.name"] == "Deutsche Telekom AG"
    assert "fields" not in lines[0]


def test_splunk_ta_aws_without_original_is_dead_lettered_not_dropped() -> None:
    doc, _ = vpcflow(1)
    batch = Batch()
    batch.add(doc, "aws.vpcflow", "s3://b/k", None)
    sink = HecSink(_config(mode="splunk_ta_aws"))
    delivery = sink.send(batch)
    assert delivery.delivered == 0
    assert len(delivery.dead_lettered) == 1
    assert "original" in delivery.dead_lettered[0].reason


def test_unknown_dataset_is_dead_lettered() -> None:
    doc, raw = vpcflow(1)
    batch = Batch()
    batch.add(doc, "aws.guardduty", "s3://b/k", raw)
    delivery = HecSink(_config()).send(batch)
    assert delivery.delivered == 0
    assert "aws.guardduty" in delivery.dead_lettered[0].reason
