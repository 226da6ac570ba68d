"""ECS parity with Elastic's AWS integration fixtures.

The fixtures are third-party data that this repository does not ship: they are read from
``../shared/conformance/elastic-aws`` beside the checkout, or from the folder named by
``AWS_SIEM_CONNECTOR_CONFORMANCE``. Where neither exists the tests are reported as skipped with
that reason; this is the suite's only skip. The measured parity is printed in pytest's summary.
"""

from __future__ import annotations

import pytest

from tests.conformance.parity import CORPUS_VARIABLE, corpus_dir, measure
from tests.conformance.parity import report as parity_report
from tests.conftest import Report

PARITY_FLOOR = 0.90


@pytest.fixture(scope="module", autouse=True)
def corpus_present() -> None:
    """Skip, naming where the fixtures were looked for, when they are not on this machine."""
    folder = corpus_dir()
    if not (folder / "vpcflow").is_dir() or not (folder / "cloudtrail").is_dir():
        pytest.skip(f"Elastic's AWS integration fixtures are not on this machine (looked in {folder}; "
                    f"set {CORPUS_VARIABLE} to their folder to run the conformance tests)")


@pytest.mark.parametrize("dataset", ["vpcflow", "cloudtrail"])
def test_normalize_reproduces_elastic_fields(dataset: str, report: Report) -> None:
    """At least 90% of the comparable expected fields come out of `normalize` identically."""
    parity = measure(dataset)
    report.add("conformance with Elastic's AWS integration fixtures", parity_report(dataset, parity).splitlines()[0])
    assert parity.documents > 20
    assert parity.ratio >= PARITY_FLOOR, parity_report(dataset, parity)


def test_every_flow_fixture_line_becomes_one_document() -> None:
    """No fixture line is lost: the peer's last-line bug would show up as a count mismatch."""
    parity = measure("vpcflow")
    assert parity.documents == 33
