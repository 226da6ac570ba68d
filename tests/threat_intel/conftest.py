"""Fixtures of the threat-intel tests: a processor for real documents, moto for S3 feeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector.config import AppConfig
from connector.pipeline import RecordProcessor
from tests.servers.moto_server import MotoServer

BUCKET = "intel-feeds"


@pytest.fixture(scope="session")
def processor() -> Iterator[RecordProcessor]:
    """Default settings (the embedded GeoLite2 database)."""
    proc = RecordProcessor(AppConfig())
    yield proc
    proc.close()


@pytest.fixture
def s3(moto_session: MotoServer) -> Any:
    """An S3 client of a clean moto, with the feeds bucket created."""
    moto_session.reset()
    client = moto_session.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client
