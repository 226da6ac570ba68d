"""A 429 storm from a real Elasticsearch with a one-slot write queue: everything lands once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.faults import Reconciliation
from tests.search.ecs_docs import dataset_batch
from tests.servers.search_cluster import SearchCluster, document_ids, http_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def starved_es() -> Iterator[SearchCluster]:
    """Elasticsearch with one write thread and a one-slot queue, so concurrent bulks get 429."""
    workdir = Path(tempfile.mkdtemp(prefix="aws-siem-es-starved-", dir="/tmp"))
    try:
        with SearchCluster.start(
            "elasticsearch",
            workdir,
            write_queue_size=1,
            extra_settings={"thread_pool.write.size": 1},
        ) as cluster:
            yield cluster
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.faults
def test_429_storm_delivers_everything_exactly_once(starved_es: SearchCluster) -> None:
    config = SearchSinkConfig.from_settings(
        {"url": starved_es.url, "concurrency": 8, "bulk_docs": 50, "max_retries": 30, "retry_max_seconds": 1},
        {},
        "elasticsearch",
    )
    deploy(config)
    sink = ElasticsearchSink(config)
    sink.min_chunk_docs = 50  # many small concurrent requests: the storm needs them
    batch = dataset_batch(2400, 300, 300)
    try:
        delivery = sink.send(batch)
    finally:
        sink.close()
    assert (delivery.delivered, delivery.dead_lettered) == (3000, [])
    assert sink.stats.retried_requests > 0, "the server produced no 429: the storm did not happen"
    http_json("POST", f"{starved_es.url}/logs-aws_connector.*/_refresh")
    counts = {}
    for ds in ("vpcflow", "cloudtrail", "config"):
        got = http_json("GET", f"{starved_es.url}/logs-aws_connector.{ds}-default/_count")
        assert isinstance(got, dict)
        counts[ds] = got["count"]
    assert counts == {"vpcflow": 2400, "cloudtrail": 300, "config": 300}
    landed = document_ids(starved_es.url, "logs-aws_connector.*")
    dead = [d.record["event"]["id"] for d in delivery.dead_lettered]
    Reconciliation.of("elasticsearch-429-storm", batch.ids, landed, dead).assert_nothing_lost()
