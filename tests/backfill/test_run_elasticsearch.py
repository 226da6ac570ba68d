"""Backfill into a real Elasticsearch, killed with SIGKILL three times and resumed from its
checkpoint: exactly one document per record of the requested days (``_id = event.id``), none
from outside them."""

from __future__ import annotations

import datetime as dt
import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backfill._support import backfill_argv, command_env, kill_process_when, run_backfill
from tests.backfill.estate import Estate, expected_ids
from tests.backfill.test_run import finished_rows
from tests.faults import Reconciliation, dead_letter_ids
from tests.servers.moto_server import MotoServer
from tests.servers.search_cluster import SearchCluster, document_ids, http_json

pytestmark = pytest.mark.integration
NAMESPACE = "backfillcrash"
# Plain indices of their own (no templates): the cluster is shared with the template tests, whose
# first deploy must find none installed.
INDEX_PREFIX = "backfillcrash"
STREAMS = f"{INDEX_PREFIX}.*-{NAMESPACE}"


def _ids_in(cluster: SearchCluster) -> list[str]:
    http_json("POST", f"{cluster.url}/{STREAMS}/_refresh")
    result = http_json("POST", f"{cluster.url}/{STREAMS}/_search",
                       {"size": 10000, "_source": False, "query": {"match_all": {}}})
    assert isinstance(result, dict), result
    return [hit["_id"] for hit in result["hits"]["hits"]]


@pytest.mark.faults
def test_sigkill_three_times_then_resume_gives_the_exact_documents(
    moto: MotoServer, estate: Estate, es_cluster: SearchCluster, tmp_path: Path,
) -> None:
    start, end = dt.date(2026, 1, 5), dt.date(2026, 1, 12)
    checkpoint, log = tmp_path / "cp.sqlite", tmp_path / "runs.log"
    dead = tmp_path / "dead-letters.ndjson"
    argv = backfill_argv(f"{start}", f"{end}", tmp_path / "out", checkpoint, "--no-progress",
                         "--sink", "elasticsearch", "--es-url", es_cluster.url, "--dlq", str(dead))
    env = command_env(moto.env, AWS_SIEM_CONNECTOR_PIPELINE__BATCH_DOCS="20",
                      AWS_SIEM_CONNECTOR_ELASTICSEARCH__NAMESPACE=NAMESPACE,
                      AWS_SIEM_CONNECTOR_ELASTICSEARCH__DATA_STREAMS="false",
                      AWS_SIEM_CONNECTOR_ELASTICSEARCH__INDEX_PREFIX=INDEX_PREFIX)
    keys = estate.keys(start, end)

    def kill_when(ready: Callable[[], bool]) -> int:
        return kill_process_when(argv, env, log, ready)

    assert kill_when(lambda: finished_rows(checkpoint) >= 1) == -signal.SIGKILL
    first = finished_rows(checkpoint)
    assert kill_when(lambda: finished_rows(checkpoint) >= first + len(keys) // 3) == -signal.SIGKILL
    second = finished_rows(checkpoint)
    assert kill_when(lambda: finished_rows(checkpoint) >= second + (len(keys) - second) // 2) == -signal.SIGKILL
    third = finished_rows(checkpoint)
    assert first < second < third < len(keys)

    final = run_backfill(argv, env, timeout=120)
    assert final.returncode == 0, final.stderr
    assert finished_rows(checkpoint) == len(keys)
    ids = _ids_in(es_cluster)
    assert len(ids) == len(set(ids)), "a record landed twice"
    assert set(ids) == expected_ids(estate, keys)
    letters = [json.loads(line) for line in dead.read_text().splitlines()] if dead.exists() else []
    # The cluster keeps one document per _id: a snapshot item sharing its history item's id is one.
    Reconciliation.of("backfill-sigkill-three-times-then-resume-elasticsearch", expected_ids(estate, keys),
                      document_ids(es_cluster.url, STREAMS), dead_letter_ids(letters)).assert_nothing_lost()
