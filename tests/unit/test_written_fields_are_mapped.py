"""Everything the normalizer writes for the demo day is searchable: the `aws.*` objects of the
index templates are `dynamic: false`, so a field the templates do not map would sit in `_source`
where no query, dashboard or rule could reach it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.detections.catalogue import catalogue


def _leaf_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for key, item in value.items() for p in _leaf_paths(item, f"{prefix}{key}.")}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return {p for item in value for p in _leaf_paths(item, prefix)}
    return {prefix[:-1]}


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("dataset", ["aws.vpcflow", "aws.cloudtrail", "aws.config"])
def test_every_written_field_is_mapped(dataset: str, demo_out: Path) -> None:
    fields = catalogue(dataset)
    written: set[str] = set()
    with (demo_out / f"{dataset}.ndjson").open() as lines:
        for line in lines:
            written |= _leaf_paths(json.loads(line))
    # ECS fields outside aws.* are mapped dynamically (strings as keyword); aws.* is not dynamic.
    unmapped = sorted(p for p in written if p.startswith("aws.") and p not in fields)
    assert unmapped == []
