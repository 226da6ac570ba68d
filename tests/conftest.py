"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from connector.demo.estate import DemoManifest, generate_estate
from tests.servers.moto_server import MotoServer, moto_server
from tests.servers.search_cluster import SearchCluster

_REPORTS: dict[str, list[str]] = {}

# Property tests: a bounded number of examples in every run, many more with
# ``--hypothesis-profile=thorough``. No example database: runs leave nothing behind.
settings.register_profile("default", max_examples=50, deadline=None, database=None)
settings.register_profile("thorough", max_examples=2000, deadline=None, database=None)
settings.load_profile("default")


class Report:
    """Lines a test wants every run to show (parity figures, detection tables): printed in pytest's
    summary under their section, whatever the verbosity."""

    def add(self, section: str, line: str) -> None:
        """Show ``line`` under ``section`` at the end of the run."""
        _REPORTS.setdefault(section, []).append(line)


@pytest.fixture(scope="session")
def report() -> Report:
    """Where a test puts what the run's summary must show."""
    return Report()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Each section of lines the tests reported."""
    for section, lines in _REPORTS.items():
        terminalreporter.section(section)
        for line in lines:
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


@pytest.fixture(scope="session")
def moto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto in server mode on 127.0.0.1, one for the session; a test that needs it fails if it
    cannot start."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def moto(moto_session: MotoServer) -> MotoServer:
    """The moto server with every resource of earlier tests forgotten."""
    moto_session.reset()
    return moto_session
