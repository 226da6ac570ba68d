"""The CloudWatch Logs poller against moto over HTTP: every event exactly once across runs and
restarts, with several events at one millisecond and pages that split them."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from connector.config import load_config
from connector.errors import ConfigError, SourceError
from connector.normalize.vpcflow import record_id_prefix
from connector.sources.cloudwatch import CloudWatchSettings, Position, PositionStore, run_log_groups
from tests.cloudwatch.conftest import flow_line, read_ndjson
from tests.servers.moto_server import MotoServer

GROUP = "/aws/vpc/flowlogs/prod"
STREAMS = ("eni-0a1b2c3d4e5f60001-all", "eni-0a1b2c3d4e5f60002-all")
ROOT = Path(__file__).resolve().parents[2]


def _put(logs: Any, stream: str, events: list[tuple[int, str]]) -> None:
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": ts, "message": m} for ts, m in events])


def _expected_ids(logs: Any) -> dict[str, str]:
    """event.id the connector must give each event, from what CloudWatch Logs holds."""
    out: dict[str, str] = {}
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=GROUP):
        for e in page["events"]:
            out[record_id_prefix(f"{GROUP}/{e['logStreamName']}") + e["eventId"]] = e["message"]
    return out


def _run(tmp_path: Path, **args: Any) -> int:
    config = load_config(None, {}, {
        "geoip": {"city_db": "none"},
        "file": {"out": str(tmp_path / "out")},
        "cloudwatch": {"state_path": str(tmp_path / "state" / "cw.sqlite"), "start": "beginning",
                       "poll_seconds": 0.05, "page_size": 2},
    })
    namespace = argparse.Namespace(sink="file", dry_run=False, idle_exit=0.3, max_pages=None)
    for key, value in args.items():
        setattr(namespace, key, value)
    return run_log_groups([GROUP], namespace, config)


@pytest.fixture
def logs(aws: MotoServer) -> Any:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    for stream in STREAMS:
        client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    return client


def test_every_event_exactly_once_across_stop_add_and_restart(logs: Any, tmp_path: Path) -> None:
    t0 = int(time.time() * 1000) - 3_600_000
    # Five events share t0 across two streams, so pages of two split them.
    _put(logs, STREAMS[0], [(t0, flow_line(1)), (t0, flow_line(2)), (t0, flow_line(3)), (t0 + 5, flow_line(4))])
    _put(logs, STREAMS[1], [(t0, flow_line(5)), (t0, flow_line(6)), (t0 + 5, flow_line(7))])

    # A run stopped after one page (as a crash after its checkpoint would leave it).
    assert _run(tmp_path, max_pages=1) == 0
    out = tmp_path / "out" / "aws.vpcflow.ndjson"
    assert len(read_ndjson(out)) == 2
    state = PositionStore(str(tmp_path / "state" / "cw.sqlite"))
    position = state.get(GROUP)
    state.close()
    assert position is not None and position.timestamp == t0 and len(position.ids) == 2

    # Restart: the rest of t0 and t0+5, nothing twice.
    assert _run(tmp_path) == 0
    assert len(read_ndjson(out)) == 7

    # New events at the last settled millisecond and later, then a third run.
    _put(logs, STREAMS[0], [(t0 + 5, flow_line(8)), (t0 + 9, flow_line(9))])
    _put(logs, STREAMS[1], [(t0 + 5, flow_line(10))])
    assert _run(tmp_path) == 0
    # And a run with nothing new reads nothing.
    assert _run(tmp_path) == 0

    docs = read_ndjson(out)
    ids = [d["event"]["id"] for d in docs]
    expected = _expected_ids(logs)
    assert len(expected) == 10
    assert len(ids) == len(set(ids)) == 10
    assert set(ids) == set(expected)
    for doc in docs:
        assert doc["source"]["port"] == int(expected[doc["event"]["id"]].split()[5])
    state = PositionStore(str(tmp_path / "state" / "cw.sqlite"))
    assert state.get(GROUP) == Position(t0 + 9, frozenset({e for e in state.get(GROUP).ids}))  # type: ignore[union-attr]
    assert len(state.get(GROUP).ids) == 1  # type: ignore[union-attr]
    state.close()


def test_start_now_saves_the_position_at_once_and_reads_only_later_events(logs: Any, tmp_path: Path) -> None:
    old = int(time.time() * 1000) - 600_000
    _put(logs, STREAMS[0], [(old, flow_line(1))])
    config = load_config(None, {}, {
        "geoip": {"city_db": "none"}, "file": {"out": str(tmp_path / "out")},
        "cloudwatch": {"state_path": str(tmp_path / "cw.sqlite"), "start": "now", "poll_seconds": 0.05,
                       "delay_seconds": 0}})
    args = argparse.Namespace(sink="file", dry_run=False, idle_exit=0.2, max_pages=None)
    assert run_log_groups([GROUP], args, config) == 0
    assert read_ndjson(tmp_path / "out" / "aws.vpcflow.ndjson") == []
    _put(logs, STREAMS[0], [(int(time.time() * 1000), flow_line(2))])
    assert run_log_groups([GROUP], args, config) == 0
    docs = read_ndjson(tmp_path / "out" / "aws.vpcflow.ndjson")
    assert [d["source"]["port"] for d in docs] == [40002]


def test_delay_holds_back_recent_events(logs: Any, tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    _put(logs, STREAMS[0], [(now - 120_000, flow_line(1)), (now - 1_000, flow_line(2))])
    config = load_config(None, {}, {
        "geoip": {"city_db": "none"}, "file": {"out": str(tmp_path / "out")},
        "cloudwatch": {"state_path": str(tmp_path / "cw.sqlite"), "start": "beginning", "delay_seconds": "60"}})
    args = argparse.Namespace(sink="file", dry_run=False, idle_exit=0, max_pages=None)
    assert run_log_groups([GROUP], args, config) == 0
    assert [d["source"]["port"] for d in read_ndjson(tmp_path / "out" / "aws.vpcflow.ndjson")] == [40001]


def test_missing_group_is_a_clear_error(aws: MotoServer, tmp_path: Path) -> None:
    config = load_config(None, {}, {"geoip": {"city_db": "none"}, "file": {"out": str(tmp_path)},
                                    "cloudwatch": {"state_path": str(tmp_path / "cw.sqlite")}})
    args = argparse.Namespace(sink="file", dry_run=False, idle_exit=0, max_pages=None)
    with pytest.raises(SourceError, match="does not exist"):
        run_log_groups(["no-such-group"], args, config)


@pytest.mark.parametrize("section, message", [
    ({"poll_secs": 1}, "unknown key"),
    ({"poll_seconds": "often"}, "must be a number"),
    ({"start": "yesterday"}, "ISO 8601"),
    ({"page_size": 20000}, "out of range"),
])
def test_settings_are_validated(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CloudWatchSettings.from_section(section, "connector.yaml")


def test_sigterm_settles_the_current_page_and_exits_zero(logs: Any, tmp_path: Path, aws: MotoServer) -> None:
    t0 = int(time.time() * 1000) - 3_600_000
    _put(logs, STREAMS[0], [(t0 + n, flow_line(n)) for n in range(20)])
    script = textwrap.dedent(f"""
        import argparse, sys
        from connector.config import load_config
        from connector.sources.cloudwatch import run_log_groups
        config = load_config(None)
        args = argparse.Namespace(sink="file", dry_run=False, idle_exit=None, max_pages=None)
        sys.exit(run_log_groups([{GROUP!r}], args, config))
    """)
    env = {**os.environ, **aws.env,
           "AWS_SIEM_CONNECTOR_GEOIP__CITY_DB": "none",
           "AWS_SIEM_CONNECTOR_FILE__OUT": str(tmp_path / "out"),
           "AWS_SIEM_CONNECTOR_CLOUDWATCH__STATE_PATH": str(tmp_path / "cw.sqlite"),
           "AWS_SIEM_CONNECTOR_CLOUDWATCH__START": "beginning",
           "AWS_SIEM_CONNECTOR_CLOUDWATCH__POLL_SECONDS": "0.1",
           "AWS_SIEM_CONNECTOR_CLOUDWATCH__PAGE_SIZE": "5"}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = tmp_path / "out" / "aws.vpcflow.ndjson"
        deadline = time.monotonic() + 30
        while len(read_ndjson(out)) < 20:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "poller delivered nothing in 30 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert "written 20" in err.decode()
    state = PositionStore(str(tmp_path / "cw.sqlite"))
    assert state.get(GROUP) is not None and state.get(GROUP).timestamp == t0 + 19  # type: ignore[union-attr]
    state.close()
