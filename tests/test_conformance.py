"""ECS parity with Elastic's AWS integration fixtures (the corpus in ../shared/conformance)."""

from __future__ import annotations

import pytest

from tests.conformance.parity import corpus_dir, measure, report

PARITY_FLOOR = 0.90


@pytest.mark.parametrize("dataset", ["vpcflow", "cloudtrail"])
def test_normalize_reproduces_elastic_fields(dataset: str) -> None:
    """At least 90% of the comparable expected fields come out of `normalize` identically."""
    folder = corpus_dir() / dataset
    assert folder.is_dir(), f"conformance corpus missing at {folder} (set CONFORMANCE_DIR)"
    parity = measure(dataset)
    print(report(dataset, parity))
    assert parity.documents > 20
    assert parity.ratio >= PARITY_FLOOR, report(dataset, parity)


def test_every_flow_fixture_line_becomes_one_document() -> None:
    """No fixture line is lost: the peer's last-line bug would show up as a count mismatch."""
    parity = measure("vpcflow")
    assert parity.documents == 33
