"""Templates, delivery, idempotency, geo and per-item errors against real Elasticsearch/OpenSearch."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import yaml

from connector.config import AppConfig
from connector.normalize.specs import mappings_dir
from connector.pipeline import RecordProcessor
from connector.sinks.base import Batch
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.opensearch import OpenSearchSink
from connector.sinks.search_bulk import SearchBulkSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.faults import Reconciliation
from tests.search.ecs_docs import (
    EUROPE_BOX,
    EUROPE_IPS,
    PUBLIC_SOURCES,
    cloudtrail_doc,
    dataset_batch,
    mapping_violation_batch,
)
from tests.servers.search_cluster import SearchCluster, document_ids, http_json
from tests.unit._support import gz, process
from tests.unit.cloudtrail_records import EVERY_FIELD

pytestmark = pytest.mark.integration
_namespaces = itertools.count()
FLOWS, TRAILS, CONFIGS = 300, 40, 30


def _config(cluster: SearchCluster, **settings: Any) -> SearchSinkConfig:
    return SearchSinkConfig.from_settings({"url": cluster.url, **settings}, {}, cluster.kind)


def _sink(config: SearchSinkConfig) -> SearchBulkSink:
    return ElasticsearchSink(config) if config.kind == "elasticsearch" else OpenSearchSink(config)


def _count(cluster: SearchCluster, index: str, query: dict[str, Any] | None = None) -> int:
    http_json("POST", f"{cluster.url}/{index}/_refresh")
    body = {"query": query} if query else None
    result = http_json("POST" if body else "GET", f"{cluster.url}/{index}/_count", body)
    assert isinstance(result, dict) and "count" in result, result
    return int(result["count"])


def _deliver(cluster: SearchCluster, namespace: str, batch: Batch) -> int:
    """Send one batch through a fresh sink; the number delivered."""
    sink = _sink(_config(cluster, namespace=namespace))
    try:
        return sink.send(batch).delivered
    finally:
        sink.close()


def _field_types(cluster: SearchCluster, stream: str, *fields: str) -> dict[str, str]:
    """The mapped type of each dotted field in the stream's backing index."""
    mapping = http_json("GET", f"{cluster.url}/{stream}/_mapping/field/{','.join(fields)}")
    assert isinstance(mapping, dict)
    found = next(iter(mapping.values()))["mappings"]
    return {f: found[f]["mapping"][f.rsplit(".", 1)[-1]]["type"] for f in fields}


@pytest.fixture
def namespace() -> str:
    """A fresh namespace per test, so every count below is exact."""
    return f"t{next(_namespaces)}"


def test_deploy_installs_templates_then_changes_nothing(deployed: tuple[SearchCluster, list[str], list[str]]) -> None:
    cluster, first, second = deployed
    assert sum(line.startswith("created component template") for line in first) == 5
    assert sum(line.startswith("created index template") for line in first) == 3
    assert not any(line.startswith(("created", "updated")) for line in second), second
    assert sum(line.startswith("unchanged") for line in second) == 8
    # Neither integration-test build ships ILM / ISM: the policy is skipped with a notice.
    policy = "ILM" if cluster.kind == "elasticsearch" else "ISM"
    assert any(line.startswith(f"skipped {policy} policy aws_connector-logs") for line in first), first
    for dataset in ("vpcflow", "cloudtrail", "config"):
        got = http_json("GET", f"{cluster.url}/_index_template/logs-aws_connector.{dataset}")
        assert isinstance(got, dict)
        template = got["index_templates"][0]["index_template"]
        assert template["priority"] >= 200
        assert "data_stream" in template
        assert template["index_patterns"] == [f"logs-aws_connector.{dataset}-*"]


def test_dataset_lands_once_and_replay_is_idempotent(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    sink = _sink(_config(cluster, namespace=namespace))
    try:
        batch = dataset_batch(FLOWS, TRAILS, CONFIGS)
        first = sink.send(batch)
        assert (first.delivered, first.dead_lettered) == (FLOWS + TRAILS + CONFIGS, [])
        expected = {"vpcflow": FLOWS, "cloudtrail": TRAILS, "config": CONFIGS}
        counts = {ds: _count(cluster, f"logs-aws_connector.{ds}-{namespace}") for ds in expected}
        assert counts == expected
        second = sink.send(batch)
        assert (second.delivered, second.dead_lettered) == (FLOWS + TRAILS + CONFIGS, [])
        assert sink.stats.conflicts == FLOWS + TRAILS + CONFIGS
        assert {ds: _count(cluster, f"logs-aws_connector.{ds}-{namespace}") for ds in expected} == expected
    finally:
        sink.close()
    if cluster.kind == "opensearch":
        streams = http_json("GET", f"{cluster.url}/_data_stream/logs-aws_connector.*-{namespace}")
        assert isinstance(streams, dict)
        assert sorted(s["name"] for s in streams["data_streams"]) == sorted(
            f"logs-aws_connector.{ds}-{namespace}" for ds in expected
        )
    else:
        # No data stream API in this build; the backing index name proves a data stream.
        index = http_json("GET", f"{cluster.url}/logs-aws_connector.vpcflow-{namespace}/_mapping")
        assert isinstance(index, dict)
        assert all(name.startswith(".ds-logs-aws_connector.vpcflow-") for name in index)


def test_uncompressed_bodies_land_like_gzipped_ones(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    sink = _sink(_config(cluster, namespace=namespace, compression_level=0))
    try:
        delivery = sink.send(dataset_batch(FLOWS, TRAILS, CONFIGS))
    finally:
        sink.close()
    assert (delivery.delivered, delivery.dead_lettered) == (FLOWS + TRAILS + CONFIGS, [])
    expected = {"vpcflow": FLOWS, "cloudtrail": TRAILS, "config": CONFIGS}
    assert {ds: _count(cluster, f"logs-aws_connector.{ds}-{namespace}") for ds in expected} == expected


def test_cloudtrail_entities_are_keywords_one_term_query_finds(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    stream = f"logs-aws_connector.cloudtrail-{namespace}"
    batch = Batch()
    for n in range(10):
        doc = cloudtrail_doc(n)
        doc["related"] = {"entity": [f"arn:aws:iam::123456789012:user/u{n % 2}", f"sg-{n:04x}"]}
        doc["target"] = {"entity": {"id": [f"sg-{n:04x}"]}}
        batch.add(doc, "aws.cloudtrail", "test://entities")
    assert _deliver(cluster, namespace, batch) == 10
    assert _field_types(cluster, stream, "related.entity", "target.entity.id") == {
        "related.entity": "keyword", "target.entity.id": "keyword"}
    assert _count(cluster, stream, {"term": {"related.entity": "arn:aws:iam::123456789012:user/u1"}}) == 5
    assert _count(cluster, stream, {"term": {"target.entity.id": "sg-0003"}}) == 1


def _value_at(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for key in path.split("."):
        node = node[0][key] if isinstance(node, list) else node[key]
    return node


def test_every_cloudtrail_field_is_found_where_the_sigma_pipeline_looks(deployed: Any, namespace: str) -> None:
    """A record with every field of CloudTrail's record reference, normalized and indexed: a term
    query on each field the Sigma pipeline maps a CloudTrail name to finds it."""
    cluster = deployed[0]
    stream = f"logs-aws_connector.cloudtrail-{namespace}"
    processor = RecordProcessor(AppConfig())
    try:
        key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_us-east-1_x.json.gz"
        (doc,) = process(processor, gz(json.dumps({"Records": [EVERY_FIELD]})), key).docs
    finally:
        processor.close()
    batch = Batch()
    batch.add(doc, "aws.cloudtrail", "test://every-field")
    assert _deliver(cluster, namespace, batch) == 1
    pipeline = yaml.safe_load((mappings_dir() / "sigma" / "aws_connector_ecs.yml").read_text())
    fields = next(t for t in pipeline["transformations"] if t["id"] == "cloudtrail_fields")["mapping"]
    missed = {name: path for name, path in fields.items()
              if _count(cluster, stream, {"term": {path: _value_at(doc, path)}}) != 1}
    assert not missed, missed


def test_geo_location_is_geo_point_and_queryable(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    stream = f"logs-aws_connector.vpcflow-{namespace}"
    assert _deliver(cluster, namespace, dataset_batch(FLOWS, 0, 0)) == FLOWS
    assert _field_types(cluster, stream, "source.geo.location", "source.ip", "source.port") == {
        "source.geo.location": "geo_point", "source.ip": "ip", "source.port": "long"}
    http_json("POST", f"{cluster.url}/{stream}/_refresh")
    result = http_json(
        "POST",
        f"{cluster.url}/{stream}/_search",
        {
            "size": 0,
            "query": {"geo_bounding_box": {"source.geo.location": EUROPE_BOX}},
            "aggs": {"ips": {"terms": {"field": "source.ip", "size": 20}}},
        },
    )
    assert isinstance(result, dict)
    found = {b["key"] for b in result["aggregations"]["ips"]["buckets"]}
    assert found == EUROPE_IPS
    public = [n for n in range(FLOWS) if n % 3 == 0]
    in_europe = sum(PUBLIC_SOURCES[(n // 3) % len(PUBLIC_SOURCES)][0] in EUROPE_IPS for n in public)
    assert result["hits"]["total"]["value"] == in_europe
    near_tokyo = {"geo_distance": {"distance": "100km", "source.geo.location": {"lat": 35.7, "lon": 139.7}}}
    assert _count(cluster, stream, near_tokyo) == sum(
        PUBLIC_SOURCES[(n // 3) % len(PUBLIC_SOURCES)][0] == "203.0.113.77" for n in public
    )


@pytest.mark.faults
def test_mapping_violation_is_dead_lettered_and_neighbours_land(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    batch = mapping_violation_batch()
    sink = _sink(_config(cluster, namespace=namespace))
    try:
        delivery = sink.send(batch)
    finally:
        sink.close()
    assert delivery.delivered == 18
    assert [d.origin for d in delivery.dead_lettered] == ["s3://bucket/key#7", "s3://bucket/key#12"]
    port, ip = (d.reason for d in delivery.dead_lettered)
    assert "HTTP 400" in port and "source.port" in port and "not-a-port" in port
    assert "HTTP 400" in ip and "source.ip" in ip
    assert delivery.dead_lettered[0].record == batch.docs[7]
    assert _count(cluster, f"logs-aws_connector.vpcflow-{namespace}") == 18
    landed = document_ids(cluster.url, f"logs-aws_connector.vpcflow-{namespace}")
    dead = [d.record["event"]["id"] for d in delivery.dead_lettered]
    Reconciliation.of(f"{cluster.kind}-mapping-violation", batch.ids, landed, dead).assert_nothing_lost()


def test_free_form_objects_do_not_grow_the_mapping(deployed: Any, namespace: str) -> None:
    cluster = deployed[0]
    stream = f"logs-aws_connector.config-{namespace}"
    batch = dataset_batch(0, 0, CONFIGS)
    for n, doc in enumerate(batch.docs):
        doc["aws"]["config"][f"unknown_field_{n}"] = "kept in _source only"
    sink = _sink(_config(cluster, namespace=namespace))
    try:
        assert sink.send(batch).delivered == CONFIGS
    finally:
        sink.close()
    mapping = http_json("GET", f"{cluster.url}/{stream}/_mapping")
    assert isinstance(mapping, dict)
    config_props = next(iter(mapping.values()))["mappings"]["properties"]["aws"]["properties"]["config"]["properties"]
    flat = "flattened" if cluster.kind == "elasticsearch" else "flat_object"
    assert config_props["configuration"] == {"type": flat}
    assert not any(name.startswith("unknown_field_") for name in config_props)
    # Keys inside a flattened object are still searchable.
    term = {"term": {"aws.config.configuration.instanceType": "t3.micro"}}
    assert _count(cluster, stream, term) == sum(n % 2 for n in range(CONFIGS))


def test_plain_indices_when_data_streams_are_off(search_cluster: SearchCluster, namespace: str) -> None:
    config = _config(search_cluster, namespace=namespace, data_streams=False, index_prefix=f"plain{namespace}")
    changes = deploy(config)
    assert f"created index template plain{namespace}.vpcflow (priority 250)" in changes
    sink = _sink(config)
    try:
        assert sink.send(dataset_batch(30, 5, 5)).delivered == 40
        assert sink.send(dataset_batch(30, 5, 5)).delivered == 40
    finally:
        sink.close()
    index = f"plain{namespace}.vpcflow-{namespace}"
    assert _count(search_cluster, index) == 30
    got = http_json("GET", f"{search_cluster.url}/{index}/_mapping/field/source.geo.location")
    assert isinstance(got, dict) and list(got) == [index]  # a plain index, no backing .ds- index
    assert got[index]["mappings"]["source.geo.location"]["mapping"]["location"]["type"] == "geo_point"


def test_check_connection_names_the_server(search_cluster: SearchCluster) -> None:
    sink = _sink(_config(search_cluster))
    try:
        assert sink.check_connection().startswith(search_cluster.kind)
    finally:
        sink.close()
