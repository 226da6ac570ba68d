"""Processors shared by the property tests (built once: each loads the embedded GeoIP database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.config import AppConfig, NormalizeSettings
from connector.pipeline import RecordProcessor


@pytest.fixture(scope="session")
def processor() -> Iterator[RecordProcessor]:
    """Default settings."""
    proc = RecordProcessor(AppConfig())
    yield proc
    proc.close()


@pytest.fixture(scope="session")
def dropping_processor() -> Iterator[RecordProcessor]:
    """Flow records without data (NODATA/SKIPDATA) skipped by rule, originals kept."""
    proc = RecordProcessor(AppConfig(normalize=NormalizeSettings(drop_nodata=True, keep_original=True)),
                           keep_raw=True)
    yield proc
    proc.close()
