"""A moto server for the S3 backfill tests (session-wide), with the generated 30-day bucket in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backfill.estate import Estate, put_estate
from tests.servers.moto_server import MotoServer, moto_server

BUCKET = "acme-security-logs"


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto in server mode on 127.0.0.1; a test that needs it fails if it cannot start."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="session")
def estate(moto: MotoServer) -> Estate:
    """The generated bucket, uploaded once; tests only read it."""
    return put_estate(moto.client("s3"), BUCKET)


@pytest.fixture
def moto_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process's environment pointed at moto (boto3 reads AWS_ENDPOINT_URL itself)."""
    for name, value in moto.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto.env


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where the file sink writes."""
    return tmp_path / "out"
