"""Session-scoped real Elasticsearch and OpenSearch nodes; each starts once per test session.

A node that cannot be fetched or started fails the tests that need it (never a skip).
"""

from __future__ import annotations

import pytest

from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.servers.search_cluster import SearchCluster


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
