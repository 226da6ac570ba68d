"""The demo dataset through the command line into real Elasticsearch and OpenSearch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.demo.estate import DemoManifest
from connector.enrich.geoip import GeoIpLookup, GeoIpSettings
from tests.servers.search_cluster import SearchCluster, http_json

pytestmark = pytest.mark.integration
NAMESPACE = "demo"


def _count(cluster: SearchCluster, dataset: str, query: dict[str, Any] | None = None) -> int:
    index = f"logs-aws_connector.{dataset}-{NAMESPACE}"
    http_json("POST", f"{cluster.url}/{index}/_refresh")
    result = http_json("POST", f"{cluster.url}/{index}/_count", {"query": query} if query else None)
    assert isinstance(result, dict) and "count" in result, result
    return int(result["count"])


def _backfill(cluster: SearchCluster, root: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    flag = "--es-url" if cluster.kind == "elasticsearch" else "--opensearch-url"
    code = main(["backfill", "--source", str(root), "--sink", cluster.kind, flag, cluster.url,
                 "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


def test_demo_dataset_lands_once_with_geo_points(
    deployed: tuple[SearchCluster, list[str], list[str]], demo_estate: tuple[Path, DemoManifest], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    search_cluster = deployed[0]
    root, manifest = demo_estate
    # The command line's deploy on a cluster that has the templates already changes nothing.
    flag = "--es-url" if search_cluster.kind == "elasticsearch" else "--opensearch-url"
    assert main(["deploy", search_cluster.kind, flag, search_cluster.url]) == 0
    out = capsys.readouterr().out
    assert "unchanged index template logs-aws_connector.vpcflow" in out, out
    assert not any(line.startswith(("created", "updated")) for line in out.splitlines()), out
    config = tmp_path / "connector.yaml"
    config.write_text(f"{search_cluster.kind}:\n  namespace: {NAMESPACE}\n  concurrency: 2\n")

    err = _backfill(search_cluster, root, config, capsys)
    trails = manifest.cloudtrail_records_total + manifest.insight_records
    assert _count(search_cluster, "vpcflow") == manifest.flow_records_total
    assert _count(search_cluster, "cloudtrail") == trails
    # A Config item in a history file and in its change notification shares one event.id.
    configs = _count(search_cluster, "config")
    assert manifest.config_items_total <= configs <= manifest.config_items_total + len(manifest.notification_files)
    assert "dead-lettered 0" in err

    # geo_point mapping: a geo_distance query around each brute-force source's location finds it.
    geoip = GeoIpLookup(GeoIpSettings())
    for ip, country in manifest.brute_force_sources.items():
        geo = geoip.geo(ip)
        assert geo is not None and geo["country_iso_code"] == country
        query = {"bool": {"filter": [
            {"geo_distance": {"distance": "1km", "source.geo.location": geo["location"]}},
            {"term": {"source.ip": ip}},
            {"term": {"event.action": "REJECT"}},
        ]}}
        assert _count(search_cluster, "vpcflow", query) == manifest.flow_rejects_by_source[ip]

    # A second ingest of the same data: `create` with `_id = event.id` leaves every count unchanged.
    _backfill(search_cluster, root, config, capsys)
    assert _count(search_cluster, "vpcflow") == manifest.flow_records_total
    assert _count(search_cluster, "cloudtrail") == trails
    assert _count(search_cluster, "config") == configs
