"""Fixtures for the AWS-facing tests: one moto server per session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.moto_server import MotoServer, moto_server


@pytest.fixture(scope="session")
def moto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto in server mode on 127.0.0.1; a test that needs it fails if it cannot start."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def moto(moto_session: MotoServer) -> MotoServer:
    """The moto server with every resource of earlier tests forgotten."""
    moto_session.reset()
    return moto_session
