"""The HEC sink against a real HEC implementation (OpenTelemetry Collector splunkhec receiver)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest
import requests

from connector.errors import FatalSinkError
from connector.sinks.base import Batch
from connector.sinks.splunk_hec import HecSink
from connector.sinks.splunk_hec_config import HecSinkConfig
from tests.faults import Reconciliation
from tests.servers.hec_receiver import HecReceiver
from tests.splunk.samples import expected_time, mixed_batch

pytestmark = pytest.mark.integration

INDEXES = {"aws.vpcflow": "aws_vpcflow", "aws.cloudtrail": "aws_cloudtrail", "aws.config": "aws_config"}


def _config(receiver: HecReceiver, **overrides: Any) -> HecSinkConfig:
    settings: dict[str, Any] = {
        "hec_url": receiver.url,
        "token": receiver.token,
        "indexes": INDEXES,
        "host": "connector-test",
        "batch_events": 40,
        "ack": True,
        "ack_poll_interval": 0.05,
        "concurrency": 3,
    }
    settings.update(overrides)
    return HecSinkConfig.from_settings(settings, env={})


def _roundtrip(doc: dict[str, Any]) -> Any:
    return orjson.loads(orjson.dumps(doc))


def test_ecs_dataset_arrives_exactly_once_with_metadata(hec_receiver: HecReceiver) -> None:
    batch = mixed_batch()
    sink = HecSink(_config(hec_receiver))
    assert sink.config.gzip and sink.config.ack
    try:
        assert "healthy" in sink.check_health()
        delivery = sink.send(batch)
    finally:
        sink.close()
    assert delivery.delivered == len(batch) == 510
    assert delivery.dead_lettered == []

    events = hec_receiver.read_events(expected=len(batch))
    ids = Counter(e["event"]["event"]["id"] for e in events)
    assert len(events) == len(batch)
    assert all(count == 1 for count in ids.values())

    by_id = {e["event"]["event"]["id"]: e for e in events}
    sourcetypes = {
        "aws.vpcflow": "aws:connector:vpcflow",
        "aws.cloudtrail": "aws:connector:cloudtrail",
        "aws.config": "aws:connector:config",
    }
    for doc, dataset, origin in zip(batch.docs, batch.datasets, batch.origins, strict=True):
        got = by_id[doc["event"]["id"]]
        assert got["time"] == expected_time(doc)
        assert got["sourcetype"] == sourcetypes[dataset]
        assert got["index"] == INDEXES[dataset]
        assert got["source"] == origin
        assert got["host"] == "connector-test"
        assert got["event"] == _roundtrip(doc)
        assert got["fields"] == {}


def test_second_send_of_same_batch_arrives_again_once(hec_receiver: HecReceiver) -> None:
    batch = mixed_batch(50, 20, 10)
    sink = HecSink(_config(hec_receiver, batch_events=7, concurrency=2))
    try:
        assert sink.send(batch).delivered == 80
        assert sink.send(batch).delivered == 80
    finally:
        sink.close()
    events = hec_receiver.read_events(expected=160)
    ids = Counter(e["event"]["event"]["id"] for e in events)
    assert len(events) == 160
    assert set(ids.values()) == {2}


def test_splunk_ta_aws_mode_sends_originals_with_addon_sourcetypes(hec_receiver: HecReceiver) -> None:
    batch = mixed_batch(40, 20, 10)
    sink = HecSink(_config(hec_receiver, mode="splunk_ta_aws"))
    try:
        assert sink.send(batch).delivered == 70
    finally:
        sink.close()
    events = hec_receiver.read_events(expected=70)
    assert len(events) == 70
    by_raw = {e["event"]: e for e in events}
    assert len(by_raw) == 70
    for doc, dataset, original in zip(batch.docs, batch.datasets, batch.originals, strict=True):
        got = by_raw[original]
        if dataset == "aws.vpcflow":
            assert got["sourcetype"] == "aws:cloudwatchlogs:vpcflow"
        elif dataset == "aws.cloudtrail":
            assert got["sourcetype"] == "aws:cloudtrail"
        else:
            message_type = doc["aws"]["config"].get("message_type")
            assert got["sourcetype"] == ("aws:config:notification" if message_type else "aws:config")
        assert got["time"] == expected_time(doc)
        source = doc.get("source", {})
        geo = source.get("geo")
        if geo:
            assert got["fields"]["source.geo.country_iso_code"] == geo["country_iso_code"]
            assert got["fields"]["source.geo.city_name"] == geo["city_name"]
            assert got["fields"]["source.geo.location.lat"] == geo["location"]["lat"]
        else:
            assert not any(k.startswith("source.geo") for k in got["fields"])
        if "as" in source:
            assert got["fields"]["source.as.number"] == source["as"]["number"]


def test_indexed_fields_in_ecs_mode(hec_receiver: HecReceiver) -> None:
    batch = mixed_batch(10, 0, 0)
    sink = HecSink(_config(hec_receiver, indexed_fields=["event.action", "source.ip", "related.ip"]))
    try:
        assert sink.send(batch).delivered == 10
    finally:
        sink.close()
    events = hec_receiver.read_events(expected=10)
    assert len(events) == 10
    for got in events:
        doc = got["event"]
        assert got["fields"] == {
            "event.action": doc["event"]["action"],
            "source.ip": doc["source"]["ip"],
            "related.ip": doc["related"]["ip"],
        }


@pytest.mark.faults
def test_bad_token_is_fatal_and_nothing_arrives(hec_receiver: HecReceiver) -> None:
    batch = mixed_batch(5, 5, 5)
    sink = HecSink(_config(hec_receiver, token="not-the-token"))
    try:
        with pytest.raises(FatalSinkError) as health_error:
            sink.check_health()
        with pytest.raises(FatalSinkError) as send_error:
            sink.send(batch)
    finally:
        sink.close()
    for error in (health_error, send_error):
        assert "not-the-token" not in str(error.value)
        assert "401" in str(error.value)
    assert hec_receiver.read_events() == []
    # Nothing was acknowledged: with the token fixed, the same records are sent again.
    sink = HecSink(_config(hec_receiver))
    try:
        assert sink.send(batch).delivered == len(batch)
    finally:
        sink.close()
    arrived = [e["event"]["event"]["id"] for e in hec_receiver.read_events(expected=len(batch))]
    Reconciliation.of("hec-receiver-bad-token-then-redelivery", batch.ids, arrived).assert_nothing_lost()


def test_receiver_requires_gzip_header_and_channel_for_ack(hec_receiver: HecReceiver) -> None:
    """Guards the fixture itself: the receiver acks only with a channel, as Splunk does."""
    headers = {"Authorization": f"Splunk {hec_receiver.token}"}
    resp = requests.post(f"{hec_receiver.url}/services/collector/ack", data=b'{"acks":[1]}',
                         headers=headers, timeout=5)
    assert resp.status_code == 400
    assert "channel" in resp.text.lower()


def test_uncompressed_without_ack_also_delivers(hec_receiver: HecReceiver) -> None:
    batch: Batch = mixed_batch(30, 0, 0)
    sink = HecSink(_config(hec_receiver, gzip=False, ack=False))
    try:
        assert sink.send(batch).delivered == 30
    finally:
        sink.close()
    assert len(hec_receiver.read_events(expected=30)) == 30
