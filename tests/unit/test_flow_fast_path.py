"""The JSON-writing fast path for flow records produces exactly the general path's documents."""

from __future__ import annotations

import random

import orjson
import pytest

from connector.formats.vpcflow import HeaderlessLayouts, parse_format
from connector.pipeline import RecordProcessor

V5_CUSTOM = parse_format(
    "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport "
    "pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status region az-id "
    "flow-direction pkt-src-aws-service traffic-path")
ADDRESSES = ["10.0.1.5", "10.0.2.9", "89.160.20.156", "81.2.69.142", "2a02:cf40::1", "100.64.3.3", "224.0.0.5",
             "185.156.73.54", "172.16.0.1", "8.8.8.8"]


def _line(layout: tuple[str, ...], rnd: random.Random) -> str:
    values = {
        "version": "5", "account-id": "123456789012", "interface-id": "eni-0a1b2c3d", "vpc-id": "vpc-1",
        "subnet-id": "subnet-2", "instance-id": "i-3", "type": "IPv4", "srcaddr": rnd.choice(ADDRESSES),
        "dstaddr": rnd.choice(ADDRESSES), "srcport": str(rnd.randint(0, 65535)), "dstport": str(rnd.choice([22, 443])),
        "pkt-srcaddr": rnd.choice(ADDRESSES), "pkt-dstaddr": "-" if rnd.random() < 0.1 else rnd.choice(ADDRESSES),
        "protocol": rnd.choice(["6", "17", "1", "58", "47"]), "bytes": str(rnd.randint(0, 10**9)),
        "packets": str(rnd.randint(1, 9999)), "start": str(1_700_000_000 + rnd.randint(0, 10**6)),
        "end": str(1_700_000_100 + rnd.randint(0, 10**6)), "action": rnd.choice(["ACCEPT", "REJECT", "-"]),
        "tcp-flags": str(rnd.randint(0, 255)), "log-status": rnd.choice(["OK", "OK", "NODATA"]),
        "region": "us-east-1", "az-id": "use1-az1", "flow-direction": rnd.choice(["ingress", "egress"]),
        "pkt-src-aws-service": rnd.choice(["-", "S3", "AMAZON"]), "traffic-path": rnd.choice(["1", "-"]),
    }
    return " ".join(values.get(name, "x-" + name) for name in layout)


@pytest.mark.parametrize("layout", [HeaderlessLayouts().for_fields(["0"] * 14), V5_CUSTOM,
                                    HeaderlessLayouts().for_fields(["0"] * 29)])
def test_fast_and_general_paths_write_the_same_document(processor: RecordProcessor, layout: tuple[str, ...]) -> None:
    flows = processor._flows
    fast = flows.fast_mapper(layout)
    general_mapper = flows.mapper(layout)
    assert fast is not None
    rnd = random.Random(11)
    lines = [_line(layout, rnd) for _ in range(3000)]
    encoded: list[bytes] = []
    ids: list[str] = []
    stamps: list[str] = []
    handed_over: list[int] = []

    def general(line: str, loc: int, eid: str) -> None:
        handed_over.append(loc)
        encoded.append(b"")
        ids.append(eid)
        stamps.append("")

    fast(lines, list(range(1, len(lines) + 1)), None, "p-", "2026-11-28T00:00:00.000Z", False, encoded, ids,
         stamps, general)
    assert len(encoded) == len(lines), "every line is written or handed to the general path, in order"
    assert ids == [f"p-{n}" for n in range(1, len(lines) + 1)]
    taken = 0
    for n, line in enumerate(lines, 1):
        if n in handed_over:
            continue
        taken += 1
        expected = general_mapper(line, f"p-{n}", "2026-11-28T00:00:00.000Z")
        assert orjson.loads(encoded[n - 1]) == orjson.loads(orjson.dumps(expected)), line
        assert stamps[n - 1] == expected["@timestamp"]
    assert taken > 150, "the fast path should take the complete tcp/udp records"
    # What the fast path hands over, the general path maps or rejects on its own.
    assert len(handed_over) + taken == len(lines)


def test_lines_that_need_escaping_take_the_general_path(processor: RecordProcessor) -> None:
    layout = HeaderlessLayouts().for_fields(["0"] * 14)
    from connector.formats.base import RawBatch

    line = '2 123456789012 eni-"quoted" 10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000001 ACCEPT OK'
    out = processor._flows.normalize(RawBatch("aws.vpcflow", [line], [1], layout=layout), "k")
    assert orjson.loads(out.encoded[0])["aws"]["vpcflow"]["interface_id"] == 'eni-"quoted"'
