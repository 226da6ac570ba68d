"""content sigma: options before or after the rule paths; every rule that converts is printed, every
one that does not gets one `RULE_FILE: reason` line; exit 1 when any was refused."""

from __future__ import annotations

import json
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

ROOT_LOGIN = bundled_rules_dir() / "aws_root_console_login.yml"
KMS = bundled_rules_dir() / "aws_kms_key_disabled_or_scheduled_for_deletion.yml"


def _queries(out: str) -> list[str]:
    return [line for line in out.splitlines() if line and not line.startswith("#")]


def test_options_go_before_or_after_the_rule_paths(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for argv in (["content", "sigma", "--backend", "splunk", str(ROOT_LOGIN)],
                 ["content", "sigma", str(ROOT_LOGIN), "--backend", "splunk"],
                 ["content", "--backend", "splunk", "sigma", str(ROOT_LOGIN)]):
        assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    (query,) = _queries(outputs[0])
    assert 'event.action="ConsoleLogin"' in query


def test_one_unconvertible_rule_does_not_hide_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    windows = tmp_path / "whoami.yml"
    windows.write_text(WINDOWS_RULE)
    code = main(["content", "sigma", "--backend", "lucene", str(windows), str(ROOT_LOGIN)])
    out, err = capsys.readouterr()
    assert code == 1
    (query,) = _queries(out)
    assert "event.action.caseless:ConsoleLogin" in query
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{windows}: ") and "Whoami Execution" in line
    assert "product: windows, category: process_creation" in line and "Traceback" not in err


def test_a_folder_with_a_bad_file_converts_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a_bad.yml").write_text("title: x\ndescription: a: b\n")
    (rules / "b_root.yml").write_text(ROOT_LOGIN.read_text())
    (rules / "c_kms.yml").write_text(KMS.read_text())
    code = main(["content", "sigma", str(rules), "--format", "ndjson"])
    out, err = capsys.readouterr()
    assert code == 1
    titles = sorted(json.loads(line)["title"] for line in out.splitlines())
    assert len(titles) == 2 and any("KMS" in t for t in titles) and any("oot" in t for t in titles)
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{rules / 'a_bad.yml'}: not valid YAML")


def test_input_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "sigma", str(tmp_path / "missing.yml")]) == 2
    assert "no Sigma rule at" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["content", "sigma", str(empty)]) == 2
    assert "no Sigma rule (*.yml) in" in capsys.readouterr().err
    assert main(["content", "sigma", "--backend", "lucene", "--format", "savedsearches"]) == 2
    err = capsys.readouterr().err
    assert "--format savedsearches needs --backend splunk" in err and len(err.strip().splitlines()) == 1


def test_ndjson_lists_every_bundled_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "sigma", "--format", "ndjson"]) == 0
    rules = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rules) == len(list(bundled_rules_dir().glob("*.yml"))) >= 20
    assert {r["backend"] for r in rules} == {"lucene"}
    assert all(r["query"].startswith(("event.dataset:aws.cloudtrail AND ", "event.dataset:aws.vpcflow AND "))
               for r in rules)
