"""Crash safety: ``forward`` killed with SIGKILL in the middle of a large object loses nothing;
the message reappears after its visibility timeout and a restarted service delivers it again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from connector.normalize.vpcflow import record_id_prefix
from tests.aws.support import dead_letters, flow_object, make_aws, ndjson, start_forward, wait_for
from tests.faults import Reconciliation, dead_letter_ids
from tests.servers.moto_server import MotoServer

pytestmark = pytest.mark.integration
LINES = 300_000


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            child = int(entry)
            found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.faults
def test_sigkill_mid_object_then_restart_delivers_every_record(moto: MotoServer, tmp_path: Path) -> None:
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    aws.drain_test_events()
    key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/111122223333_vpcflowlogs_big.log.gz"
    aws.put(key, flow_object(LINES, seed=5))
    config = tmp_path / "connector.yaml"
    config.write_text("pipeline:\n  batch_docs: 2000\n")
    first = start_forward(aws, tmp_path, "--visibility-timeout", "4", "--workers", "1", "--config", str(config),
                          name="first")
    out = first.out / "aws.vpcflow.ndjson"
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 4_000_000, 60, "part of the object", first)
        workers = _descendants(first.proc.pid)
        first.signal(signal.SIGKILL)
        first.proc.wait(10)
        written = sum(1 for _ in ndjson(out))
        assert 0 < written < LINES, "the kill did not land in the middle of the object"
        # The worker processes die with the service; none keeps writing unacknowledged records.
        wait_for(lambda: not any(_alive(p) for p in workers), 10, "the workers to die")
    finally:
        first.stop()
    depth = aws.depth()
    assert depth in ((0, 1), (1, 0)), f"the message must survive the kill (visible or in flight), got {depth}"

    second = start_forward(aws, tmp_path, "--visibility-timeout", "4", "--workers", "1", "--config", str(config),
                           "--idle-exit", "15", name="second")
    started = time.monotonic()
    assert second.wait(90) == 0, second.log_text()
    arrived = [d["event"]["id"] for d in ndjson(out)]
    ids = set(arrived)
    prefix = record_id_prefix(key)
    source = {f"{prefix}{n}" for n in range(2, LINES + 2)}
    missing = source - ids
    assert not missing, f"{len(missing)} records missing"
    assert aws.depth() == (0, 0)
    assert time.monotonic() - started < 60
    # The records the killed run had written come again from the restarted one: duplicates.
    Reconciliation.of("forward-sigkill-mid-object", source, arrived,
                      dead_letter_ids(dead_letters(tmp_path), prefix)).assert_nothing_lost()
