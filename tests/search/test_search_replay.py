"""replay-dlq against real Elasticsearch and OpenSearch: refused documents land once fixed, a
document the mapping still refuses is kept with the server's reason, and a second replay of the
same file adds nothing (create with _id = event.id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.dlq import DeadLetterStore
from connector.sinks.base import DeadLetter
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.opensearch import OpenSearchSink
from connector.sinks.search_config import SearchSinkConfig
from tests.faults import Reconciliation
from tests.search.ecs_docs import flow_doc, mapping_violation_batch
from tests.servers.search_cluster import document_ids, http_json

pytestmark = pytest.mark.integration


def _count(url: str, stream: str) -> int:
    http_json("POST", f"{url}/{stream}/_refresh")
    result = http_json("GET", f"{url}/{stream}/_count")
    assert isinstance(result, dict)
    return int(result["count"])


def _record_id(entry: dict[str, Any]) -> str:
    """A dead letter's record: a document by its event.id, a raw line by where it was read."""
    record = entry["record"]
    return str(record["event"]["id"]) if isinstance(record, dict) else f"{entry['origin']} {entry['location']}"


@pytest.mark.faults
def test_replay_lands_what_was_refused_and_keeps_what_still_is(deployed: Any, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cluster = deployed[0]
    namespace = "replay"
    stream = f"logs-aws_connector.vpcflow-{namespace}"
    config = SearchSinkConfig.from_settings({"url": cluster.url, "namespace": namespace}, {}, cluster.kind)
    sink = ElasticsearchSink(config) if cluster.kind == "elasticsearch" else OpenSearchSink(config)
    # A real refusal: two of twenty documents break the mapping and go to the dead-letter file.
    batch = mapping_violation_batch()
    dlq = tmp_path / "dead-letters.ndjson"
    store = DeadLetterStore(str(dlq))
    try:
        delivery = sink.send(batch)
        store.write(delivery.dead_lettered)
        # Documents an earlier run gave up on while the cluster was overloaded, and a line a
        # parser could not read.
        store.write([DeadLetter(flow_doc(100 + n), "HTTP 429 es_rejected_execution_exception: still rejected after"
                                " 6 attempts", "s3://bucket/later", "x") for n in range(3)])
        store.write([DeadLetter("2 123 eni-1", "wrong field count: 3 of 14", "s3://bucket/flow.log.gz", "line 9")])
    finally:
        sink.close()
        store.close()
    assert _count(cluster.url, stream) == 18
    source = [_record_id(json.loads(line)) for line in dlq.read_text().splitlines()] + batch.ids
    settings = tmp_path / "connector.yaml"
    section = "elasticsearch" if cluster.kind == "elasticsearch" else "opensearch"
    settings.write_text(f"{section}:\n  url: {cluster.url}\n  namespace: {namespace}\n")

    for attempt in (1, 2):
        left = tmp_path / f"left-{attempt}.ndjson"
        code = main(["replay-dlq", str(dlq), "--sink", cluster.kind, "--config", str(settings), "--dlq", str(left)])
        assert code == 1
        # The three overloaded ones landed the first time; the second replay finds them (409) and adds nothing.
        assert _count(cluster.url, stream) == 21
        assert capsys.readouterr().err.strip().endswith(
            "replayed 6 dead letters: delivered 3, refused again 2, not replayable 1, unreadable 0;"
            f" 3 kept in {left}")
        kept = [json.loads(line) for line in left.read_text().splitlines()]
        assert [k["origin"] for k in kept] == ["s3://bucket/flow.log.gz", "s3://bucket/key#7", "s3://bucket/key#12"]
        port, ip = kept[1]["reason"], kept[2]["reason"]
        assert "HTTP 400" in port and "source.port" in port and "not-a-port" in port
        assert "HTTP 400" in ip and "source.ip" in ip
        assert kept[1]["record"] == batch.docs[7]
        assert kept[1]["location"] == f"{stream}/{batch.ids[7]}"
    with capsys.disabled():  # the scenario line goes to the terminal, not to the captured output
        Reconciliation.of(f"{cluster.kind}-replay-dead-letters", source, document_ids(cluster.url, stream),
                          [_record_id(entry) for entry in kept]).assert_nothing_lost()
