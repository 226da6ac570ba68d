"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.demo.generator import DemoManifest, generate_estate


@pytest.fixture(scope="session")
def demo_estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    """The demo dataset (a day of a small AWS estate in S3 key layout), generated once."""
    root = tmp_path_factory.mktemp("estate")
    return root, generate_estate(root)
