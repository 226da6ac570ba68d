"""Session-scoped real Elasticsearch and OpenSearch nodes; each starts once per test session.

A node that cannot be fetched or started fails the tests that need it (never a skip).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sinks.search_bulk import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.servers.search_cluster import SearchCluster


def _node(kind: str, **options: object) -> Iterator[SearchCluster]:
    workdir = Path(tempfile.mkdtemp(prefix=f"aws-siem-{kind}-", dir="/tmp"))
    try:
        with SearchCluster.start(kind, workdir, **options) as cluster:  # type: ignore[arg-type]
            yield cluster
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def es_cluster() -> Iterator[SearchCluster]:
    """A single Elasticsearch node on 127.0.0.1."""
    yield from _node("elasticsearch")


@pytest.fixture(scope="session")
def os_cluster() -> Iterator[SearchCluster]:
    """A single OpenSearch node on 127.0.0.1."""
    yield from _node("opensearch")


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
