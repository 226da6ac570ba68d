"""A bucket backfill with filter rules: the summary table counts the skips per dataset and per rule,
and written plus skipped equals what the bucket holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.backfill._support import backfill_argv, command_env, read_docs, run_backfill, summary_values
from tests.backfill.estate import ACCOUNT_B, Estate, expected_id_list

DAY = dt.date(2026, 1, 12)


def test_bucket_backfill_counts_skips_by_rule_in_the_summary(moto, estate: Estate, tmp_path: Path):
    rules = tmp_path / "filters.yaml"
    rules.write_text("filters:\n  - name: drop-account-b-flows\n    dataset: aws.vpcflow\n"
                     f"    when: {{cloud.account.id: '{ACCOUNT_B}'}}\n    action: drop\n")
    out = tmp_path / "out"
    argv = backfill_argv("2026-01-12", "2026-01-12", out, tmp_path / "cp.sqlite", "--no-progress", "--config",
                         str(rules), "--workers", "2")
    done = run_backfill(argv, command_env(moto.env))
    assert done.returncode == 0, done.stderr
    values = summary_values(done.stderr)
    docs = read_docs(out)
    expected = expected_id_list(estate, estate.keys(DAY, DAY))
    flows = [d for d in docs if d["event"]["dataset"] == "aws.vpcflow"]
    assert flows and not any(d["cloud"]["account"]["id"] == ACCOUNT_B for d in flows)
    dropped = len(expected) - len(docs)
    assert dropped > 0
    assert values["skipped by rule drop-account-b-flows"] == str(dropped)
    assert values["aws.vpcflow records skipped"] == str(dropped)
    assert values["aws.vpcflow records written"] == str(len(flows))
    assert values["aws.cloudtrail records skipped"] == "0"
    assert set(d["event"]["id"] for d in docs) <= set(expected)
