"""The template files themselves: priorities, ECS types, and the two forms kept in step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.normalize.specs import mappings_dir
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import MIN_PRIORITY, load_templates


def _field(properties: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: dict[str, Any] = {"properties": properties}
    for part in dotted.split("."):
        node = node["properties"][part]
    return node


@pytest.mark.parametrize("kind", ["elasticsearch", "opensearch"])
def test_index_templates_outrank_logs_star_and_types_are_ecs(kind: str) -> None:
    templates = load_templates(SearchSinkConfig(kind=kind, url="http://x:9200"))
    assert MIN_PRIORITY == 200
    assert {t["priority"] for t in templates.index_templates.values()} == {250}
    ecs = templates.component_templates["aws_connector@ecs"]["template"]["mappings"]["properties"]
    assert _field(ecs, "source.geo.location")["type"] == "geo_point"
    assert _field(ecs, "destination.geo.location")["type"] == "geo_point"
    assert _field(ecs, "source.ip")["type"] == "ip"
    assert _field(ecs, "related.ip")["type"] == "ip"
    assert _field(ecs, "destination.port")["type"] == "long"
    assert _field(ecs, "network.bytes")["type"] == "long"
    assert _field(ecs, "network.iana_number")["type"] == "keyword"
    assert _field(ecs, "@timestamp")["type"] == "date"
    assert ecs["aws"]["dynamic"] is False
    flat = "flattened" if kind == "elasticsearch" else "flat_object"
    ct = templates.component_templates["aws_connector.cloudtrail@mappings"]["template"]["mappings"]["properties"]
    # The text rendering is a keyword (wildcard searches); the objects are flattened.
    assert _field(ct, "aws.cloudtrail.request_parameters")["type"] == "keyword"
    assert _field(ct, "aws.cloudtrail.flattened.request_parameters")["type"] == flat
    assert _field(ct, "aws.cloudtrail.flattened.response_elements")["type"] == flat
    cfg = templates.component_templates["aws_connector.config@mappings"]["template"]["mappings"]["properties"]
    for name in ("configuration", "supplementary_configuration", "tags", "relationships"):
        assert _field(cfg, f"aws.config.{name}")["type"] == flat
    for dataset in ("vpcflow", "cloudtrail", "config"):
        assert _field(cfg if dataset == "config" else ct if dataset == "cloudtrail" else
                      templates.component_templates["aws_connector.vpcflow@mappings"]["template"]["mappings"]
                      ["properties"], f"aws.{dataset}")["dynamic"] is False


def _normalized(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") in ("flattened", "flat_object"):
            return {"type": "FLAT"}
        return {k: _normalized(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalized(v) for v in node]
    return node


def test_opensearch_form_matches_elasticsearch_form_but_for_flattened() -> None:
    for folder in ("component_templates", "index_templates"):
        es_files = sorted(p.name for p in (mappings_dir() / "elasticsearch" / folder).glob("*.json"))
        os_files = sorted(p.name for p in (mappings_dir() / "opensearch" / folder).glob("*.json"))
        assert es_files == os_files
        for name in es_files:
            es = json.loads((mappings_dir() / "elasticsearch" / folder / name).read_text())
            os_ = json.loads((mappings_dir() / "opensearch" / folder / name).read_text())
            assert _normalized(es) == _normalized(os_), name
    ilm = json.loads((mappings_dir() / "elasticsearch" / "ilm" / "aws_connector-logs.json").read_text())
    ism = json.loads((mappings_dir() / "opensearch" / "ism" / "aws_connector-logs.json").read_text())
    assert "rollover" in ilm["policy"]["phases"]["hot"]["actions"]
    assert ism["policy"]["ism_template"][0]["index_patterns"] == ["logs-aws_connector.*"]


def test_plain_index_mode_rewrites_patterns_and_drops_data_stream() -> None:
    config = SearchSinkConfig(kind="elasticsearch", url="http://x:9200", data_streams=False, index_prefix="soc")
    templates = load_templates(config)
    assert sorted(templates.index_templates) == ["soc.cloudtrail", "soc.config", "soc.vpcflow"]
    vpc = templates.index_templates["soc.vpcflow"]
    assert vpc["index_patterns"] == ["soc.vpcflow-*"] and "data_stream" not in vpc
    assert Path(mappings_dir()).name == "mappings"
