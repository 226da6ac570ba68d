"""Session-scoped real Elasticsearch and OpenSearch nodes; each starts once per test session.

A node that cannot be fetched or started fails the tests that need it (never a skip).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.demo.estate import DemoManifest
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.detections.known_bad_labels import FEED, FEED_NAME, with_known_bad_label
from tests.servers.search_cluster import SearchCluster, http_json

# The namespace of the data streams that hold the whole demo day for the detection tests.
LABELED = "labeled"


@pytest.fixture(scope="session", params=["elasticsearch", "opensearch"])
def search_cluster(request: pytest.FixtureRequest) -> SearchCluster:
    """Each test that uses it runs once against each server."""
    name = "es_cluster" if request.param == "elasticsearch" else "os_cluster"
    cluster: SearchCluster = request.getfixturevalue(name)
    return cluster


@pytest.fixture(scope="session")
def deployed(search_cluster: SearchCluster) -> tuple[SearchCluster, list[str], list[str]]:
    """Templates installed twice: the change lines of the first and of the second deploy."""
    config = SearchSinkConfig.from_settings({"url": search_cluster.url}, {}, search_cluster.kind)
    return search_cluster, deploy(config), deploy(config)


@pytest.fixture(scope="session")
def labeled_day(deployed: tuple[SearchCluster, list[str], list[str]], demo_estate: tuple[Path, DemoManifest],
                tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchCluster, DemoManifest]:
    """The whole labeled demo day in the cluster's data streams of namespace ``labeled``, once,
    marked by the demo's threat-intel feed. The manifest returned carries, beside the generator's
    labels, the threat-intel detection's (worked out from the raw files and the feed)."""
    cluster = deployed[0]
    root, manifest = demo_estate
    config = tmp_path_factory.mktemp("labeled") / "connector.yaml"
    config.write_text(f"{cluster.kind}:\n  namespace: {LABELED}\n"
                      f"threat_intel:\n  feeds:\n    - name: {FEED_NAME}\n      path: {FEED}\n      format: plain\n")
    flag = "--es-url" if cluster.kind == "elasticsearch" else "--opensearch-url"
    code = main(["backfill", "--source", str(root), "--sink", cluster.kind, flag, cluster.url,
                 "--config", str(config), "--no-progress"])
    assert code == 0
    http_json("POST", f"{cluster.url}/logs-aws_connector.*-{LABELED}/_refresh")
    return cluster, with_known_bad_label(manifest)
