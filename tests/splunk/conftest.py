"""Fixtures for the Splunk HEC sink: a real HEC receiver and configs pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.hec_receiver import HecReceiver, ensure_built


@pytest.fixture(scope="session")
def hec_binary() -> str:
    """Build (or reuse) the collector once per session; a build failure fails every user loudly."""
    return str(ensure_built())


@pytest.fixture
def hec_receiver(hec_binary: str) -> Iterator[HecReceiver]:
    """A fresh receiver per test (token checked, indexer acknowledgement on), stopped by its PID."""
    with HecReceiver(ack=True) as receiver:
        yield receiver
