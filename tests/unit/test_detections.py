"""content sigma: bad rule files and rules for other log sources get one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.detections import bundled_rules_dir

WINDOWS_RULE = """title: Whoami Execution
id: 11111111-2222-4333-8444-555555555555
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\\\whoami.exe'
  condition: selection
level: low
"""


def test_rules_for_other_log_sources_are_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "whoami.yml"
    rule.write_text(WINDOWS_RULE)
    assert main(["content", "sigma", str(rule), str(bundled_rules_dir() / "aws_root_console_login.yml")]) == 2
    err = capsys.readouterr().err
    assert "only rules for logsource product: aws, service: cloudtrail" in err
    assert "Whoami Execution (product: windows, category: process_creation)" in err
    assert "Traceback" not in err


def test_invalid_yaml_and_missing_files_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: x\ndescription: a: b\n")
    assert main(["content", "sigma", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Sigma rule is not valid YAML" in err and str(bad) in err and len(err.strip().splitlines()) == 1
    assert main(["content", "sigma", str(tmp_path / "missing.yml")]) == 2
    assert "no Sigma rule at" in capsys.readouterr().err
    assert main(["content", "sigma", "--backend", "lucene", "--format", "savedsearches"]) == 2
    assert "--format savedsearches needs --backend splunk" in capsys.readouterr().err


def test_ndjson_lists_every_bundled_rule(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["content", "sigma", "--format", "ndjson"]) == 0
    rules = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rules) == len(list(bundled_rules_dir().glob("*.yml"))) == 14
    assert {r["backend"] for r in rules} == {"lucene"}
    assert all(r["query"].startswith("event.dataset:aws.cloudtrail AND ") for r in rules)
