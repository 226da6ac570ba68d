"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.demo.estate import DemoManifest, generate_estate
from tests.servers.search_cluster import SearchCluster

_CONFORMANCE_REPORTS: list[str] = []


@pytest.fixture(scope="session")
def conformance_reports() -> list[str]:
    """Lines the conformance tests report; printed in pytest's summary, so every run shows them."""
    return _CONFORMANCE_REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The parity with Elastic's fixtures, when the conformance tests ran."""
    if _CONFORMANCE_REPORTS:
        terminalreporter.section("conformance with Elastic's AWS integration fixtures")
        for line in _CONFORMANCE_REPORTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def demo_estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    """The demo dataset (a day of a small AWS estate in S3 key layout), generated once."""
    root = tmp_path_factory.mktemp("estate")
    return root, generate_estate(root)


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
