"""Crash safety into Elasticsearch: ``forward`` killed with SIGKILL mid-object and restarted leaves
exactly one document per record, because documents are created with ``_id = event.id``."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from connector.normalize.vpcflow import record_id_prefix
from tests.aws.support import dead_letters, flow_object, make_aws, start_forward, wait_for
from tests.faults import Reconciliation, dead_letter_ids
from tests.servers.moto_server import MotoServer
from tests.servers.search_cluster import SearchCluster, document_ids, http_json

pytestmark = pytest.mark.integration
LINES = 100_000
NAMESPACE = "crash"
# A plain index of its own (no templates): the cluster is shared with the template tests, whose
# first deploy must find none installed.
INDEX_PREFIX = "forwardcrash"
STREAM = f"{INDEX_PREFIX}.vpcflow-{NAMESPACE}"


def _count(cluster: SearchCluster) -> int:
    http_json("POST", f"{cluster.url}/{STREAM}/_refresh")
    result = http_json("GET", f"{cluster.url}/{STREAM}/_count")
    return int(result["count"]) if isinstance(result, dict) and "count" in result else 0


@pytest.mark.faults
def test_sigkill_mid_object_then_restart_leaves_the_exact_count(
    moto: MotoServer, es_cluster: SearchCluster, tmp_path: Path,
) -> None:
    aws = make_aws(moto, direct_prefix="AWSLogs/")
    aws.drain_test_events()
    key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/27/111122223333_vpcflowlogs_es.log.gz"
    aws.put(key, flow_object(LINES, seed=9))
    config = tmp_path / "connector.yaml"
    config.write_text(f"pipeline:\n  batch_docs: 2000\nelasticsearch:\n  namespace: {NAMESPACE}\n"
                      f"  data_streams: false\n  index_prefix: {INDEX_PREFIX}\n")
    sink = ("--sink", "elasticsearch", "--es-url", es_cluster.url, "--config", str(config))
    first = start_forward(aws, tmp_path, "--visibility-timeout", "4", "--workers", "1", *sink, name="first")
    try:
        wait_for(lambda: _count(es_cluster) >= 10_000, 90, "part of the object in Elasticsearch", first)
        first.signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        first.stop()
    landed = _count(es_cluster)
    assert 0 < landed < LINES, "the kill did not land in the middle of the object"
    depth = aws.depth()
    assert depth in ((0, 1), (1, 0)), f"the message must survive the kill (visible or in flight), got {depth}"

    second = start_forward(aws, tmp_path, "--visibility-timeout", "4", "--workers", "1", "--idle-exit", "15",
                           *sink, name="second")
    assert second.wait(120) == 0, second.log_text()
    assert _count(es_cluster) == LINES  # every record once: the replayed part did not duplicate
    assert aws.depth() == (0, 0)
    prefix = record_id_prefix(key)
    Reconciliation.of("forward-sigkill-mid-object-elasticsearch", {f"{prefix}{n}" for n in range(2, LINES + 2)},
                      document_ids(es_cluster.url, STREAM),
                      dead_letter_ids(dead_letters(tmp_path), prefix)).assert_nothing_lost()
