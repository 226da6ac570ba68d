"""Fixtures shared by the unit tests: one processor with the embedded GeoLite2 database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.config import AppConfig
from connector.pipeline import RecordProcessor


@pytest.fixture(scope="session")
def processor() -> Iterator[RecordProcessor]:
    """A RecordProcessor with default settings (embedded GeoLite2 City database)."""
    proc = RecordProcessor(AppConfig())
    yield proc
    proc.close()
