"""CloudWatch Logs subscription payloads -> work units, and the ids of the records read from them."""

from __future__ import annotations

import gzip

import pytest

from connector.config import load_config
from connector.formats.base import Skipped
from connector.normalize.vpcflow import record_id_prefix
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sinks.base import DeadLetter
from connector.sources.base import WorkUnit
from connector.sources.cloudwatch_payload import (
    CONTROL_RULE,
    SubscriptionPayloadError,
    subscription_unit,
)
from tests.cloudwatch.conftest import b64, event_id, flow_line, subscription_payload, trail_line
from tests.faults import Reconciliation

GROUP = "/aws/vpc/flowlogs/prod"
STREAM = "eni-0a1b2c3d4e5f60001-all"


@pytest.fixture(scope="module")
def processor() -> RecordProcessor:
    return RecordProcessor(load_config(None, {}, {"geoip": {"city_db": "none"}}))


def _docs(processor: RecordProcessor, unit: WorkUnit) -> tuple[list[dict], list[object]]:
    docs: list[dict] = []
    other: list[object] = []
    for item in processor.process(unit):
        if isinstance(item, NormalizedChunk):
            docs.extend(item.docs)
        else:
            other.append(item)
    return docs, other


def test_data_message_becomes_one_unit_of_its_lines() -> None:
    events = [(event_id(1), flow_line(1)), (event_id(2), flow_line(2) + "\n")]
    unit = subscription_unit(b64(subscription_payload(GROUP, STREAM, events)))
    assert isinstance(unit, WorkUnit)
    assert unit.origin == f"logs://{GROUP}/{STREAM}"
    assert unit.key == f"{GROUP}/{STREAM}"
    assert unit.type_hint == "vpcflow"
    assert unit.open().read() == (flow_line(1) + "\n" + flow_line(2) + "\n").encode()
    prefix = record_id_prefix(unit.key)
    assert unit.record_ids == (prefix + event_id(1), prefix + event_id(2))


def test_gzip_bytes_and_plain_json_are_accepted_too() -> None:
    payload = subscription_payload(GROUP, STREAM, [(event_id(1), flow_line(1))])
    from_gzip = subscription_unit(payload)
    from_json = subscription_unit(gzip.decompress(payload))
    assert isinstance(from_gzip, WorkUnit) and isinstance(from_json, WorkUnit)
    assert from_gzip.record_ids == from_json.record_ids


def test_flow_ids_come_from_event_ids_so_redelivery_in_another_batch_keeps_them(processor: RecordProcessor) -> None:
    events = [(event_id(n), flow_line(n)) for n in range(1, 6)]
    first = subscription_unit(b64(subscription_payload(GROUP, STREAM, events)))
    # The same events 3..5 arrive again in a later batch, at different line numbers.
    second = subscription_unit(b64(subscription_payload(GROUP, STREAM, [(event_id(9), flow_line(9)), *events[2:]])))
    assert isinstance(first, WorkUnit) and isinstance(second, WorkUnit)
    docs_first, _ = _docs(processor, first)
    docs_second, _ = _docs(processor, second)
    prefix = record_id_prefix(f"{GROUP}/{STREAM}")
    assert [d["event"]["id"] for d in docs_first] == [prefix + event_id(n) for n in range(1, 6)]
    assert [d["event"]["id"] for d in docs_second] == [prefix + event_id(n) for n in (9, 3, 4, 5)]
    by_id = {d["event"]["id"]: d for d in docs_first}
    for doc in docs_second[1:]:
        assert doc["source"]["port"] == by_id[doc["event"]["id"]]["source"]["port"]


@pytest.mark.faults
def test_bad_line_is_dead_lettered_and_the_rest_flows(processor: RecordProcessor) -> None:
    events = [(event_id(1), flow_line(1)), (event_id(2), "2 truncated line"), (event_id(3), flow_line(3))]
    unit = subscription_unit(b64(subscription_payload(GROUP, STREAM, events)))
    assert isinstance(unit, WorkUnit)
    docs, other = _docs(processor, unit)
    prefix = record_id_prefix(f"{GROUP}/{STREAM}")
    assert [d["event"]["id"] for d in docs] == [prefix + event_id(1), prefix + event_id(3)]
    dead = [o for o in other if isinstance(o, DeadLetter)]
    assert len(dead) == 1 and dead[0].location == "line 2" and dead[0].origin == unit.origin
    ids = [prefix + event_id(n) for n in (1, 2, 3)]
    Reconciliation.of("cloudwatch-page-bad-line", ids, [d["event"]["id"] for d in docs],
                      [ids[int(d.location.split()[1]) - 1] for d in dead]).assert_nothing_lost()


def test_log_group_format_applies_to_its_group(processor: RecordProcessor) -> None:
    fmt = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action}"
    line = "5 vpc-0abc 10.0.0.1 10.0.0.2 1234 22 6 REJECT"
    unit = subscription_unit(b64(subscription_payload("custom-group", "s1", [(event_id(1), line)])),
                             {"custom-group": fmt})
    assert isinstance(unit, WorkUnit)
    assert unit.type_hint == "vpcflow" and unit.vpcflow_format == fmt
    docs, other = _docs(processor, unit)
    assert other == []
    assert docs[0]["destination"]["port"] == 22 and docs[0]["event"]["outcome"] == "failure"


def test_cloudtrail_group_gives_trail_documents_with_their_event_ids(processor: RecordProcessor) -> None:
    events = [(event_id(1), trail_line("0a1b2c3d-0000-4000-8000-000000000001")),
              (event_id(2), trail_line("0a1b2c3d-0000-4000-8000-000000000002", "AssumeRole"))]
    unit = subscription_unit(b64(subscription_payload("aws-cloudtrail-logs-123456789012", "stream", events)))
    assert isinstance(unit, WorkUnit) and unit.type_hint == "cloudtrail"
    docs, other = _docs(processor, unit)
    assert other == []
    assert [d["event"]["id"] for d in docs] == ["0a1b2c3d-0000-4000-8000-000000000001",
                                                "0a1b2c3d-0000-4000-8000-000000000002"]


def test_unknown_group_name_is_detected_from_content(processor: RecordProcessor) -> None:
    unit = subscription_unit(b64(subscription_payload("network", "s", [(event_id(1), flow_line(1))])))
    assert isinstance(unit, WorkUnit) and unit.type_hint is None
    docs, _ = _docs(processor, unit)
    assert docs[0]["event"]["dataset"] == "aws.vpcflow"


def test_control_message_is_skipped_by_rule() -> None:
    payload = subscription_payload(GROUP, "", [(event_id(1), "CWL CONTROL MESSAGE: Checking health of destination")],
                                   message_type="CONTROL_MESSAGE")
    skipped = subscription_unit(b64(payload))
    assert skipped == Skipped(CONTROL_RULE, 1, f"logs://{GROUP}/")


@pytest.mark.parametrize("data, reason", [
    ("!!not base64!!", "not base64"),
    (b64(b"\x1f\x8b\x08\x00garbage"), "gzip"),
    (b64(gzip.compress(b'{"messageType": "DATA_MESSAGE"}')), "without logGroup"),
    (b64(gzip.compress(b'{"messageType": "SOMETHING"}')), "neither DATA_MESSAGE"),
    (b64(gzip.compress(b"[1, 2]")), "JSON object"),
    (b64(gzip.compress(b"{")), "not JSON"),
])
def test_malformed_payloads_name_the_reason(data: str, reason: str) -> None:
    with pytest.raises(SubscriptionPayloadError, match=reason):
        subscription_unit(data)


@pytest.mark.faults
def test_truncated_gzip_is_an_error_not_a_partial_page() -> None:
    payload = subscription_payload(GROUP, STREAM, [(event_id(n), flow_line(n)) for n in range(50)])
    with pytest.raises(SubscriptionPayloadError, match=r"truncated|corrupt"):
        subscription_unit(b64(payload[: len(payload) // 2]))
