"""``forward`` with filter rules: skipped records are counted by rule in ``/metrics``, never
dead-lettered, and the message is deleted once the rest is delivered."""

from __future__ import annotations

import gzip
import signal
import socket
import urllib.request
from pathlib import Path

from tests.aws.support import dead_letters, flow_object, make_aws, ndjson, start_forward, wait_for
from tests.servers.moto_server import MotoServer

KEY = ("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/"
       "111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20261127T0000Z_0a1b2c3d.log.gz")
RECORDS = 700


def test_forward_counts_skips_by_rule_in_metrics(moto: MotoServer, tmp_path: Path) -> None:
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    aws.drain_test_events()
    body = flow_object(RECORDS)
    lines = gzip.decompress(body).decode().splitlines()[1:]
    rejects = sum(1 for line in lines if " REJECT " in line)
    port = _free_port()
    config = tmp_path / "connector.yaml"
    config.write_text("forward:\n  metrics_host: 127.0.0.1\n"
                      "filters:\n  - name: drop-accepts\n    dataset: aws.vpcflow\n"
                      "    when: {event.outcome: success}\n    action: drop\n")
    forward = start_forward(aws, tmp_path, "--metrics-port", str(port), "--config", str(config), "--geoip-city",
                            "none")
    try:
        aws.put(KEY, body)
        wait_for(lambda: aws.depth() == (0, 0) and b"in_flight_messages 0" in _metrics(port)
                 and b"records_out_total" in _metrics(port), 30, "the object forwarded", forward)
        metrics = _metrics(port).decode()
        forward.signal(signal.SIGTERM)
        assert forward.wait(30) == 0, forward.log_text()
    finally:
        forward.stop()
    flows = list(ndjson(forward.out / "aws.vpcflow.ndjson"))
    assert len(flows) == rejects and {d["event"]["action"] for d in flows} == {"REJECT"}
    assert dead_letters(tmp_path) == []
    assert (f'aws_siem_connector_records_skipped_total{{dataset="aws.vpcflow",rule="drop-accepts"}} '
            f"{RECORDS - rejects}") in metrics
    assert f'aws_siem_connector_records_out_total{{dataset="aws.vpcflow"}} {rejects}' in metrics


def _metrics(port: int) -> bytes:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            return bytes(answer.read())
    except OSError:
        return b""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
