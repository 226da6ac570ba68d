"""VPC and Transit Gateway flow logs: every layout AWS writes, mapped to ECS with GeoIP and Community ID."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connector.config import AppConfig, NormalizeSettings
from connector.formats.base import RawBatch, Skipped
from connector.formats.vpcflow import NODATA_RULE, FlowLogReader
from connector.pipeline import RecordProcessor
from connector.sinks.base import DeadLetter
from tests.unit._support import (
    END_ISO,
    FLOW_KEY,
    START_ISO,
    V2_HEADER,
    gz,
    process,
    run_pipeline,
    unit,
    v2_line,
)


def _names(text: str) -> list[str]:
    return text.split()


DOCUMENTED = _names(
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type "
    "sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path ecs-cluster-arn "
    "ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id "
    "ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason"
)
V3_EXAMPLE = _names("version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport "
                    "pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status")
CUSTOM_V5 = [*V3_EXAMPLE, "region", "az-id", "flow-direction"]
TGW = _names("version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id "
             "tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
             "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
             "log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded "
             "packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service")

VALUES = {
    "version": "5", "account-id": "123456789012", "interface-id": "eni-0a1b2c3d4e5f60718",
    "srcaddr": "10.0.1.5", "dstaddr": "89.160.20.156", "srcport": "49152", "dstport": "443", "protocol": "6",
    "packets": "10", "bytes": "840", "start": "1700000000", "end": "1700000060", "action": "ACCEPT",
    "log-status": "OK", "vpc-id": "vpc-0a1b2c3d", "subnet-id": "subnet-0a1b2c3d", "instance-id": "i-0a1b2c3d4e5f",
    "tcp-flags": "19", "type": "IPv4", "pkt-srcaddr": "10.0.1.5", "pkt-dstaddr": "89.160.20.156",
    "region": "us-east-1", "az-id": "use1-az1", "sublocation-type": "-", "sublocation-id": "-",
    "pkt-src-aws-service": "-", "pkt-dst-aws-service": "-", "flow-direction": "egress", "traffic-path": "8",
    "ecs-cluster-arn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "ecs-cluster-name": "prod",
    "ecs-container-instance-arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ci1",
    "ecs-container-instance-id": "ci1", "ecs-container-id": "c1", "ecs-second-container-id": "-",
    "ecs-service-name": "web", "ecs-task-definition-arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
    "ecs-task-arn": "arn:aws:ecs:us-east-1:123456789012:task/prod/t1", "ecs-task-id": "t1", "reject-reason": "-",
    "resource-type": "TransitGateway", "tgw-id": "tgw-0123456789abcdef0", "tgw-attachment-id": "tgw-attach-0a1",
    "tgw-src-vpc-account-id": "123456789012", "tgw-dst-vpc-account-id": "210987654321",
    "tgw-src-vpc-id": "vpc-0src", "tgw-dst-vpc-id": "vpc-0dst", "tgw-src-subnet-id": "subnet-0src",
    "tgw-dst-subnet-id": "subnet-0dst", "tgw-src-eni": "eni-0src", "tgw-dst-eni": "eni-0dst",
    "tgw-src-az-id": "use1-az1", "tgw-dst-az-id": "use1-az2", "tgw-pair-attachment-id": "tgw-attach-0b2",
    "packets-lost-no-route": "0", "packets-lost-blackhole": "1", "packets-lost-mtu-exceeded": "0",
    "packets-lost-ttl-expired": "0",
}


def line_for(layout: list[str], **overrides: str) -> str:
    values = {**VALUES, **{k.replace("_", "-"): v for k, v in overrides.items()}}
    return " ".join(values[name] for name in layout)


def one_doc(processor: RecordProcessor, data: bytes, key: str = FLOW_KEY, hint: str | None = None) -> dict:
    out = process(processor, data, key, hint)
    assert not out.dead, out.dead
    assert len(out.docs) == 1, out.docs
    return out.docs[0]


# -- layouts ---------------------------------------------------------------------------------------


def test_gzip_object_with_default_header_maps_every_v2_field(processor):
    doc = one_doc(processor, gz(V2_HEADER + "\n" + v2_line(src="10.0.0.5", dst="89.160.20.156") + "\n"))
    assert doc["@timestamp"] == START_ISO
    assert doc["event"]["start"] == START_ISO and doc["event"]["end"] == END_ISO
    assert doc["event"]["dataset"] == "aws.vpcflow" and doc["event"]["kind"] == "event"
    assert doc["event"]["category"] == ["network"]
    assert doc["cloud"] == {"provider": "aws", "account": {"id": "123456789012"}}
    assert doc["source"]["ip"] == "10.0.0.5" and doc["source"]["port"] == 49152
    assert doc["destination"]["ip"] == "89.160.20.156" and doc["destination"]["port"] == 443
    assert doc["network"]["transport"] == "tcp" and doc["network"]["iana_number"] == "6"
    assert doc["network"]["packets"] == 10 and doc["network"]["bytes"] == 840
    assert doc["network"]["type"] == "ipv4"
    assert doc["related"]["ip"] == ["10.0.0.5", "89.160.20.156"]
    assert doc["aws"]["vpcflow"] == {"version": "2", "account_id": "123456789012",
                                     "interface_id": "eni-0a1b2c3d4e5f60718", "action": "ACCEPT", "log_status": "OK"}


def test_s3_header_in_custom_order_fixes_the_layout_of_every_line(processor):
    text = " ".join(CUSTOM_V5) + "\n" + line_for(CUSTOM_V5) + "\n" + line_for(CUSTOM_V5, srcport="22") + "\n"
    out = process(processor, gz(text), FLOW_KEY)
    assert not out.dead
    assert [d["source"]["port"] for d in out.docs] == [49152, 22]
    doc = out.docs[0]
    assert doc["aws"]["vpcflow"]["vpc_id"] == "vpc-0a1b2c3d"
    assert doc["aws"]["vpcflow"]["subnet_id"] == "subnet-0a1b2c3d"
    assert doc["cloud"]["instance"]["id"] == "i-0a1b2c3d4e5f"
    assert doc["cloud"]["region"] == "us-east-1" and doc["cloud"]["availability_zone"] == "use1-az1"
    assert doc["aws"]["vpcflow"]["tcp_flags_array"] == ["fin", "syn", "ack"]
    assert doc["aws"]["vpcflow"]["pkt_dstaddr"] == "89.160.20.156"
    assert doc["network"]["bytes"] == 840 and doc["network"]["packets"] == 10
    assert doc["network"]["direction"] == "egress"


def test_headerless_14_field_line_uses_the_default_v2_layout(processor):
    doc = one_doc(processor, v2_line(dst="8.8.8.8").encode(), "flows.log", "vpcflow")
    assert doc["destination"]["ip"] == "8.8.8.8" and doc["event"]["action"] == "ACCEPT"


def test_headerless_21_field_line_with_vpc_id_second_is_the_aws_v3_example(processor):
    line = ("3 vpc-12345678 subnet-012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 "
            "52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK")
    doc = one_doc(processor, line.encode(), "flows.log", "vpcflow")
    assert doc["source"]["ip"] == "52.213.180.42" and doc["source"]["port"] == 43416
    assert doc["destination"]["ip"] == "10.0.0.62" and doc["destination"]["port"] == 5001
    assert doc["network"]["bytes"] == 568 and doc["network"]["packets"] == 8
    assert doc["aws"]["vpcflow"]["vpc_id"] == "vpc-12345678"
    assert doc["cloud"]["account"]["id"] == "123456789010"
    assert doc["aws"]["vpcflow"]["tcp_flags_array"] == ["syn"]
    assert doc["@timestamp"] == "2019-08-26T19:47:55.000Z"
    assert doc["network"]["direction"] == "inbound"


@pytest.mark.parametrize("width", [29, 36, 39, 40])
def test_headerless_line_is_read_in_documented_order_by_field_count(processor, width):
    layout = DOCUMENTED[:width]
    doc = one_doc(processor, line_for(layout).encode(), "flows.log", "vpcflow")
    assert doc["source"]["ip"] == "10.0.1.5" and doc["destination"]["ip"] == "89.160.20.156"
    assert doc["cloud"]["region"] == "us-east-1"
    assert doc["network"]["direction"] == "egress"
    assert doc["aws"]["vpcflow"]["traffic_path"] == "8"
    if width >= 36:
        assert doc["orchestrator"]["cluster"]["name"] == "prod"
        assert doc["service"]["name"] == "web"
    if width >= 39:
        assert doc["aws"]["vpcflow"]["ecs_task_id"] == "t1"
    if width == 40:
        reject = line_for(layout, action="REJECT", reject_reason="BPA")
        doc = one_doc(processor, reject.encode(), "flows.log", "vpcflow")
        assert doc["event"]["reason"] == "BPA" and doc["aws"]["vpcflow"]["reject_reason"] == "BPA"


def test_headerless_36_field_transit_gateway_line_uses_the_tgw_layout(processor):
    doc = one_doc(processor, line_for(TGW, srcaddr="10.0.1.5", dstaddr="10.1.2.7").encode(), "tgw.log", "vpcflow")
    vpcflow = doc["aws"]["vpcflow"]
    assert vpcflow["resource_type"] == "TransitGateway"
    assert vpcflow["tgw_id"] == "tgw-0123456789abcdef0"
    assert vpcflow["tgw_src_vpc_id"] == "vpc-0src" and vpcflow["tgw_dst_vpc_id"] == "vpc-0dst"
    assert vpcflow["packets_lost_blackhole"] == 1
    assert doc["source"]["ip"] == "10.0.1.5" and doc["destination"]["ip"] == "10.1.2.7"
    assert doc["source"]["port"] == 49152 and doc["destination"]["port"] == 443
    assert doc["cloud"]["account"]["id"] == "123456789012"
    assert doc["network"]["direction"] == "egress"
    assert "action" not in doc["event"]


def test_configured_custom_format_reads_headerless_lines():
    fmt = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
    reader = FlowLogReader(custom_format=fmt)
    items = list(reader.read(io.BytesIO(b"5 vpc-1 10.0.0.1 10.0.0.2 1234 80 6 REJECT 1700000000 1700000060\n"), "o"))
    assert len(items) == 1 and isinstance(items[0], RawBatch)
    assert items[0].layout == ("version", "vpc-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
                               "action", "start", "end")


def test_vpcflow_format_setting_applies_to_the_processor():
    settings = NormalizeSettings(vpcflow_format="version srcaddr dstaddr srcport dstport protocol action start end")
    proc = RecordProcessor(AppConfig(normalize=settings))
    try:
        doc = one_doc(proc, b"5 10.0.0.1 10.0.0.2 1234 80 6 REJECT 1700000000 1700000060", "f.log", "vpcflow")
    finally:
        proc.close()
    assert doc["source"]["port"] == 1234 and doc["destination"]["port"] == 80
    assert doc["event"]["outcome"] == "failure"


def test_json_lines_with_a_message_are_read_as_flow_records(processor):
    text = "\n".join(json.dumps({"message": v2_line(dst=f"10.0.0.{i}"), "timestamp": 1}) for i in (7, 8))
    out = process(processor, text.encode(), "stream.json", "vpcflow")
    assert [d["destination"]["ip"] for d in out.docs] == ["10.0.0.7", "10.0.0.8"]


def test_json_line_without_a_message_is_dead_lettered_with_its_line(processor):
    text = json.dumps({"message": v2_line()}) + "\n" + json.dumps({"msg": "x"}) + "\n"
    out = process(processor, text.encode(), "stream.json", "vpcflow")
    assert len(out.docs) == 1
    assert [(d.location, "message" in d.reason) for d in out.dead] == [("line 2", True)]


def _parquet(columns: dict[str, pa.Array]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


PARQUET = {
    "version": pa.array([2, 2], pa.int32()),
    "account_id": ["123456789012", "123456789012"],
    "interface_id": ["eni-1", "eni-2"],
    "srcaddr": ["10.0.0.5", None],
    "dstaddr": ["89.160.20.156", None],
    "srcport": pa.array([443, None], pa.int32()),
    "dstport": pa.array([50000, None], pa.int32()),
    "protocol": pa.array([6, None], pa.int32()),
    "packets": pa.array([3, None], pa.int64()),
    "bytes": pa.array([180, None], pa.int64()),
    "start": pa.array([1700000000, 1700000000], pa.int64()),
    "end": pa.array([1700000060, 1700000060], pa.int64()),
    "action": ["ACCEPT", None],
    "log_status": ["OK", "NODATA"],
}


def test_parquet_with_underscored_columns_and_nulls_maps_like_text(processor):
    key = ("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2023/month=11/"
           "day=14/123456789012_vpcflowlogs_us-east-1_fl-0123_20231114T2215Z_1a2b3c4d.log.parquet")
    out = process(processor, _parquet(PARQUET), key)
    assert not out.dead
    assert len(out.docs) == 2
    first, nodata = out.docs
    assert first["source"]["port"] == 443 and first["network"]["bytes"] == 180
    assert first["destination"]["geo"]["country_iso_code"] == "SE"
    assert first["aws"]["vpcflow"]["log_status"] == "OK"
    assert nodata["aws"]["vpcflow"]["log_status"] == "NODATA"
    assert "source" not in nodata and "destination" not in nodata and "network" not in nodata
    assert "action" not in nodata["event"]


def test_parquet_without_a_telling_key_is_detected_by_magic(processor):
    out = process(processor, _parquet(PARQUET), "download/object.bin")
    assert len(out.docs) == 2


# -- values ------------------------------------------------------------------------------------------


def test_dash_values_produce_no_field(processor):
    line = "2 123456789012 eni-1 10.0.0.5 10.0.0.6 - - 6 - - 1700000000 1700000060 ACCEPT OK"
    doc = one_doc(processor, line.encode(), "f.log", "vpcflow")
    assert "port" not in doc["source"] and "port" not in doc["destination"]
    assert "bytes" not in doc["network"] and "packets" not in doc["network"]
    assert "bytes" not in doc["source"]
    assert "-" not in list(_leaves(doc))


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_nodata_and_skipdata_are_kept_as_documents_without_addresses(processor):
    lines = [V2_HEADER, v2_line(),
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA",
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - SKIPDATA"]
    summary, sink, _dlq = run_pipeline(processor, [unit(gz("\n".join(lines)), FLOW_KEY)])
    assert summary.written == 3 and summary.skipped == 0 and summary.dead_lettered == 0
    statuses = [d["aws"]["vpcflow"]["log_status"] for d in sink.docs]
    assert statuses == ["OK", "NODATA", "SKIPDATA"]
    for doc in sink.docs[1:]:
        assert "source" not in doc and "destination" not in doc and "related" not in doc
        assert doc["@timestamp"] == START_ISO
        assert doc["event"]["type"] == ["connection"] and "outcome" not in doc["event"]


def test_drop_nodata_skips_nodata_and_skipdata_by_rule_and_counts_them():
    reader = FlowLogReader(drop_nodata=True)
    lines = [V2_HEADER, v2_line(),
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA",
             "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - SKIPDATA"]
    items = list(reader.read(io.BytesIO(gz("\n".join(lines))), "o"))
    batches = [i for i in items if isinstance(i, RawBatch)]
    skips = [i for i in items if isinstance(i, Skipped)]
    assert sum(len(b.records) for b in batches) == 1
    assert skips == [Skipped(NODATA_RULE, 2, "o")]


def test_drop_nodata_in_the_pipeline_counts_skips_in_the_summary():
    proc = RecordProcessor(AppConfig(normalize=NormalizeSettings(drop_nodata=True)))
    try:
        lines = [v2_line(), "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA"]
        summary, _sink, _ = run_pipeline(proc, [unit("\n".join(lines).encode(), "f.log", "vpcflow")])
    finally:
        proc.close()
    assert (summary.written, summary.skipped, summary.read) == (1, 1, 2)
    assert summary.skipped_by_rule[NODATA_RULE] == 1


def test_ipv6_flow_has_network_type_ipv6_and_a_community_id(processor):
    line = v2_line(src="2001:db8::1", dst="2a03:2880:f12f:83:face:b00c::25de", sport=51000, dport=443)
    doc = one_doc(processor, line.encode(), "f.log", "vpcflow")
    assert doc["network"]["type"] == "ipv6"
    assert doc["network"]["community_id"].startswith("1:")
    assert doc["source"]["ip"] == "2001:db8::1"
    assert "geo" not in doc["source"]  # documentation prefix is not public
    assert doc["network"]["direction"] == "outbound"


def test_icmp_flow_with_zero_ports_maps_transport_and_community_id(processor):
    doc = one_doc(processor, v2_line(dst="8.8.8.8", sport=0, dport=0, proto=1).encode(), "f.log", "vpcflow")
    assert doc["network"]["transport"] == "icmp" and doc["network"]["iana_number"] == "1"
    assert doc["network"]["community_id"].startswith("1:")


def test_accept_is_success_allowed_and_reject_is_failure_denied(processor):
    text = v2_line(action="ACCEPT") + "\n" + v2_line(action="REJECT") + "\n"
    out = process(processor, text.encode(), "f.log", "vpcflow")
    assert [(d["event"]["outcome"], d["event"]["type"]) for d in out.docs] == [
        ("success", ["connection", "allowed"]), ("failure", ["connection", "denied"])]
    assert [d["event"]["action"] for d in out.docs] == ["ACCEPT", "REJECT"]


@pytest.mark.parametrize(("src", "dst", "direction"), [
    ("81.2.69.142", "10.0.0.5", "inbound"),
    ("10.0.0.5", "81.2.69.142", "outbound"),
    ("10.0.0.5", "172.16.3.4", "internal"),
    ("100.64.0.9", "192.168.1.1", "internal"),
    ("81.2.69.142", "89.160.20.156", "external"),
])
def test_direction_without_flow_direction_comes_from_address_classes(processor, src, dst, direction):
    doc = one_doc(processor, v2_line(src=src, dst=dst).encode(), "f.log", "vpcflow")
    assert doc["network"]["direction"] == direction


def test_flow_direction_field_wins_over_address_classes(processor):
    layout = [*V2_HEADER.split(), "flow-direction"]
    text = " ".join(layout) + "\n" + v2_line(src="81.2.69.142", dst="10.0.0.5") + " egress\n"
    doc = one_doc(processor, text.encode())
    assert doc["network"]["direction"] == "egress"
    assert doc["aws"]["vpcflow"]["flow_direction"] == "egress"


def test_event_id_is_deterministic_per_object_and_line(processor):
    data = gz(V2_HEADER + "\n" + v2_line(dport=1) + "\n" + v2_line(dport=2) + "\n")
    first = [d["event"]["id"] for d in process(processor, data, FLOW_KEY).docs]
    fresh = RecordProcessor(AppConfig())
    try:
        again = [d["event"]["id"] for d in process(fresh, data, FLOW_KEY).docs]
    finally:
        fresh.close()
    other_key = [d["event"]["id"] for d in process(processor, data, FLOW_KEY.replace("1a2b", "9z9z")).docs]
    assert first == again
    assert len(set(first)) == 2
    assert not set(first) & set(other_key)


@pytest.mark.parametrize("address", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.1.1", "127.0.0.1",
                                     "169.254.169.254", "224.0.0.251", "240.0.0.1", "fe80::1", "fd00::1",
                                     "::1", "ff02::1"])
def test_non_public_addresses_get_no_geo(processor, address):
    doc = one_doc(processor, v2_line(src=address, dst=address).encode(), "f.log", "vpcflow")
    assert "geo" not in doc["source"] and "geo" not in doc["destination"]
    assert doc["network"]["direction"] == "internal"


def test_public_addresses_get_country_and_location(processor):
    doc = one_doc(processor, v2_line(src="81.2.69.142", dst="89.160.20.156").encode(), "f.log", "vpcflow")
    src_geo, dst_geo = doc["source"]["geo"], doc["destination"]["geo"]
    assert src_geo["country_iso_code"] == "GB" and src_geo["country_name"] == "United Kingdom"
    assert dst_geo["country_iso_code"] == "SE" and dst_geo["city_name"] == "Stockholm"
    assert dst_geo["continent_name"] == "Europe"
    assert set(dst_geo["location"]) == {"lat", "lon"}
    assert dst_geo["location"]["lat"] == pytest.approx(59.33, abs=0.1)
    assert dst_geo["location"]["lon"] == pytest.approx(18.05, abs=0.1)


@pytest.mark.parametrize("compress", [False, True])
def test_last_record_of_a_headed_file_without_trailing_newline_is_kept(processor, compress):
    text = V2_HEADER + "\n" + v2_line(dport=1) + "\n" + v2_line(dport=2)
    data = gz(text) if compress else text.encode()
    out = process(processor, data, FLOW_KEY)
    assert [d["destination"]["port"] for d in out.docs] == [1, 2]


def test_crlf_line_endings_are_stripped(processor):
    text = V2_HEADER + "\r\n" + v2_line(dport=1) + "\r\n" + v2_line(dport=2) + "\r\n"
    out = process(processor, text.encode(), FLOW_KEY)
    assert [d["aws"]["vpcflow"]["log_status"] for d in out.docs] == ["OK", "OK"]


@pytest.mark.parametrize(("bad", "words"), [
    (v2_line() + " extra", ["expected 14 fields", "found 15"]),
    (v2_line(sport="http"), ["srcport", "not a number"]),
    (v2_line(dport="x"), ["dstport", "not a number"]),
    (v2_line(src="10.0.0.999"), ["srcaddr", "not an IP address"]),
    (v2_line(dst="not-an-ip"), ["dstaddr", "not an IP address"]),
    (v2_line(packets="many"), ["packets", "not a number"]),
])
def test_unreadable_line_is_dead_lettered_with_line_and_field_and_the_rest_flows(processor, bad, words):
    text = "\n".join([V2_HEADER, v2_line(dport=1), bad, v2_line(dport=3)])
    summary, sink, dlq = run_pipeline(processor, [unit(gz(text), FLOW_KEY)])
    assert [d["destination"]["port"] for d in sink.docs] == [1, 3]
    assert len(dlq.letters) == 1
    letter = dlq.letters[0]
    assert letter.location == "line 3" and letter.origin == FLOW_KEY
    assert letter.record == bad
    for word in words:
        assert word in letter.reason
    assert (summary.read, summary.written, summary.dead_lettered) == (3, 2, 1)


def test_headerless_line_with_too_few_fields_is_dead_lettered(processor):
    out = process(processor, (v2_line() + "\n2 123 eni-1 10.0.0.1\n").encode(), "f.log", "vpcflow")
    assert len(out.docs) == 1
    assert len(out.dead) == 1 and out.dead[0].location == "line 2" and "fields" in out.dead[0].reason


def test_reader_yields_dead_letter_objects_not_exceptions_for_bad_json_lines():
    items = list(FlowLogReader().read(io.BytesIO(b'{"message": 5}\n'), "o"))
    assert len(items) == 1 and isinstance(items[0], DeadLetter) and items[0].location == "line 1"


def test_compiled_layouts_are_bounded_whatever_headers_arrive():
    from connector.enrich.addresses import AddressBook
    from connector.normalize.vpcflow import MAX_LAYOUTS, FlowNormalizer

    flows = FlowNormalizer(AddressBook(None))
    base = ("srcaddr", "dstaddr", "start", "srcport", "dstport", "protocol")
    for n in range(MAX_LAYOUTS + 40):
        layout = (*base, *(f"custom-{n}-{i}" for i in range(2)))
        flows.mapper(layout)
        flows.fast_mapper(layout)
    assert len(flows._compiled) <= MAX_LAYOUTS and len(flows._fast) <= MAX_LAYOUTS
