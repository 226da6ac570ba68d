"""The same filter rules in every mode: ``normalize`` and ``backfill --source`` print the skips by
rule, the Lambda handler reports them; documents and counts reconcile with the input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from connector.transform.filters import sampled_in
from tests.unit._support import FLOW_KEY, V2_HEADER, v2_line

ROOT = Path(__file__).resolve().parents[2]
RULES = """
filters:
  - name: keep-ssh
    dataset: aws.vpcflow
    when: {destination.port: 22}
    action: keep
  - name: drop-internal-accepts
    dataset: aws.vpcflow
    when: {event.outcome: success, network.direction: internal}
    action: drop
  - name: sample-egress-accepts
    dataset: aws.vpcflow
    when: {network.direction: outbound, event.outcome: success}
    action: sample
    rate: 0.25
prune_fields:
  aws.vpcflow: [aws.vpcflow.version, event.original]
"""


def flow_lines() -> list[str]:
    internal = [v2_line(src=f"10.0.0.{n}", dst="10.0.1.9", sport=40000 + n) for n in range(1, 41)]
    ssh = [v2_line(src="10.0.0.7", dst="10.0.1.9", sport=50000 + n, dport=22) for n in range(5)]
    egress = [v2_line(src="10.0.0.8", dst=f"52.94.76.{n}", sport=41000 + n) for n in range(1, 201)]
    rejects = [v2_line(src=f"185.220.101.{n}", dst="10.0.0.5", action="REJECT", sport=42000 + n) for n in range(1, 11)]
    return internal + ssh + egress + rejects


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / FLOW_KEY
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(("\n".join([V2_HEADER, *flow_lines()]) + "\n").encode()))
    return path


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "filters.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


def expected_sampled(path: Path) -> tuple[int, int]:
    """(kept, skipped) of the sampling rule: its documented hash over the egress records' ids, as
    a run without rules writes them."""
    done = run("normalize", "--geoip-city", "none", str(path))
    docs = [json.loads(line) for line in done.stdout.splitlines()]
    egress = [d["event"]["id"] for d in docs if d["destination"]["ip"].startswith("52.94.76.")]
    assert len(egress) == 200
    kept = sum(sampled_in(eid, 0.25) for eid in egress)
    return kept, 200 - kept


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def test_normalize_applies_rules_prunes_and_prints_skips_by_rule(flow_file: Path, rules: Path):
    done = run("normalize", "--config", str(rules), "--geoip-city", "none", "--original", str(flow_file))
    assert done.returncode == 0, done.stderr
    docs = [json.loads(line) for line in done.stdout.splitlines()]
    kept, sampled_out = expected_sampled(flow_file)
    assert len(docs) == 5 + kept + 10
    assert sum(1 for d in docs if d["destination"]["port"] == 22) == 5  # kept before the drop rule
    assert not any(d["network"]["direction"] == "internal" and d["destination"]["port"] != 22 for d in docs)
    assert all("version" not in d["aws"]["vpcflow"] and "original" not in d["event"] for d in docs)
    assert f"read 255, written {len(docs)}, skipped {40 + sampled_out}, dead-lettered 0 (1 objects)" in done.stderr
    assert f"skipped by rule: drop-internal-accepts=40, sample-egress-accepts={sampled_out}" in done.stderr
    again = run("normalize", "--config", str(rules), "--geoip-city", "none", str(flow_file))
    assert sorted(json.loads(line)["event"]["id"] for line in again.stdout.splitlines()) == sorted(
        d["event"]["id"] for d in docs)  # the same records every run


def test_backfill_from_local_files_prints_skips_by_rule(flow_file: Path, rules: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = run("backfill", "--source", str(flow_file), "--sink", "file", "--out", str(out), "--config", str(rules),
               "--geoip-city", "none")
    assert done.returncode == 0, done.stderr
    written = (out / "aws.vpcflow.ndjson").read_text().splitlines()
    kept, sampled_out = expected_sampled(flow_file)
    assert len(written) == 5 + kept + 10
    assert f"skipped by rule: drop-internal-accepts=40, sample-egress-accepts={sampled_out}" in done.stderr


def test_a_bad_rule_stops_the_start_with_exit_2_and_one_line(flow_file: Path, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("filters:\n  - {name: broken-net, when: {source.ip: {cidr: 10.0.0.0/40}}, action: drop}\n")
    done = run("normalize", "--config", str(bad), str(flow_file))
    assert done.returncode == 2 and done.stdout == ""
    assert "filter rule 'broken-net': when.source.ip: cidr '10.0.0.0/40' is not a network" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_feed_that_cannot_be_read_or_parsed_stops_the_start(flow_file: Path, tmp_path: Path):
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"threat_intel:\n  feeds:\n    - {{name: feodo, path: {tmp_path / 'nope.csv'}}}\n")
    done = run("normalize", "--config", str(missing), str(flow_file))
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert f"threat_intel feed 'feodo' ({tmp_path / 'nope.csv'})" in done.stderr
    assert "Traceback" not in done.stderr

    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [')
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"threat_intel:\n  feeds:\n    - {{name: intel, path: {broken}, format: stix2}}\n")
    done = run("normalize", "--config", str(bad), str(flow_file))
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert f"threat_intel feed 'intel' ({broken})" in done.stderr and "Traceback" not in done.stderr


def test_forward_and_backfill_stop_at_start_on_a_bad_feed(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"threat_intel:\n  feeds:\n    - {{name: feodo, path: {tmp_path / 'nope.csv'}}}\n")
    for argv in (["forward", "--queue-url", "http://127.0.0.1:9/000000000000/q", "--sink", "file"],
                 ["backfill", "--bucket", "b", "--start", "2026-01-01", "--end", "2026-01-01", "--sink", "file"]):
        done = run(*argv, "--out", str(tmp_path / "out"), "--config", str(bad))
        assert done.returncode == 2, (argv[0], done.stderr)
        assert "threat_intel feed 'feodo'" in done.stderr and "Traceback" not in done.stderr, done.stderr
