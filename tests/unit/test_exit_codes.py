"""One exit-code rule for every command: 0 all written or skipped by a named rule; 1 finished, but
something was dead-lettered or refused; 2 configuration or input error (one line, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from tests.unit._support import V2_HEADER, v2_line

GARBAGE = "this is not a flow-log line\n"


def _flow_file(folder: Path, *lines: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flows.log"
    path.write_text("\n".join([V2_HEADER, *lines]) + "\n")
    return path


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    return line


def test_normalize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = _flow_file(tmp_path / "clean", v2_line(), v2_line(dport=22))
    assert main(["normalize", "--type", "vpcflow", str(clean)]) == 0
    garbage = tmp_path / "garbage.log"
    garbage.write_text(GARBAGE)
    assert main(["normalize", "--type", "vpcflow", "--dlq", str(tmp_path / "dlq.ndjson"), str(garbage)]) == 1
    assert capsys.readouterr().err.splitlines()[-1].endswith("dead-lettered 1 (1 objects)")
    assert main(["normalize", "--config", str(tmp_path / "missing.yaml"), str(clean)]) == 2
    _one_error_line(capsys.readouterr().err)


def test_backfill_from_local_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = _flow_file(tmp_path / "clean", v2_line())
    out = tmp_path / "out"
    assert main(["backfill", "--source", str(clean), "--type", "vpcflow", "--sink", "file", "--out", str(out)]) == 0
    damaged = _flow_file(tmp_path / "damaged", v2_line(), v2_line(dport="x"))
    assert main(["backfill", "--source", str(damaged), "--type", "vpcflow", "--sink", "file", "--out", str(out),
                 "--dlq", str(tmp_path / "dlq.ndjson")]) == 1
    capsys.readouterr()
    assert main(["backfill", "--source", str(clean)]) == 2
    assert "no sink chosen" in _one_error_line(capsys.readouterr().err)


def test_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import connector.demo.run as demo_run

    assert main(["demo", "--out", str(tmp_path / "clean")]) == 0
    real = demo_run.generate_estate

    def with_a_damaged_object(root: Path, *args: Any, **kwargs: Any) -> Any:
        manifest = real(root, *args, **kwargs)
        flows = next(root.rglob("*vpcflowlogs*.log.gz"))
        flows.write_bytes(flows.read_bytes()[:200])  # a truncated gzip: one dead letter
        return manifest

    monkeypatch.setattr(demo_run, "generate_estate", with_a_damaged_object)
    assert main(["demo", "--out", str(tmp_path / "damaged")]) == 1
    letters = (tmp_path / "damaged" / "dead-letters.ndjson").read_text().splitlines()
    assert len(letters) == 1 and "truncated gzip" in json.loads(letters[0])["reason"]
    capsys.readouterr()
    assert main(["demo", "--sink", "splunk"]) == 2
    assert "hec_url" in _one_error_line(capsys.readouterr().err)


def test_replay_dlq(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = {"@timestamp": "2026-11-27T10:00:00Z", "event": {"id": "a", "dataset": "aws.vpcflow"}}
    dlq = tmp_path / "dead.ndjson"
    dlq.write_text(json.dumps({"time": 0, "origin": "sink", "location": "x", "reason": "refused",
                               "record": document}) + "\n")
    assert main(["replay-dlq", str(dlq), "--sink", "file", "--out", str(tmp_path / "out")]) == 0
    dlq.write_text(json.dumps({"time": 0, "origin": "o", "location": "line 1", "reason": "bad line",
                               "record": "garbage"}) + "\n")
    assert main(["replay-dlq", str(dlq), "--sink", "file", "--out", str(tmp_path / "out")]) == 1
    capsys.readouterr()
    assert main(["replay-dlq", str(tmp_path / "missing.ndjson"), "--sink", "file"]) == 2
    _one_error_line(capsys.readouterr().err)


def test_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "sigma"]) == 0
    not_sigma = tmp_path / "not_sigma.yml"
    not_sigma.write_text("just: a mapping\n")
    assert main(["content", "sigma", str(not_sigma)]) == 1
    capsys.readouterr()
    assert main(["content", "sigma", str(tmp_path / "missing.yml")]) == 2
    _one_error_line(capsys.readouterr().err)
