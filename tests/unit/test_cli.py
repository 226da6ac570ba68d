"""The command line: `normalize` (NDJSON on stdout, summary on stderr, --dlq, --type, errors) and `demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.demo.estate import generate_estate
from tests.unit._support import V2_HEADER, gz, v2_line
from tests.unit.cloudtrail_records import ASSUME_ROLE

FLOW_DIR = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14"


def make_bucket(root: Path) -> None:
    flow = root / FLOW_DIR
    flow.mkdir(parents=True)
    lines = [V2_HEADER, v2_line(dport=1), v2_line(dport="x"), v2_line(dport=3)]
    (flow / "123456789012_vpcflowlogs_us-east-1_fl-0_20231114T2215Z_1a2b3c4d.log.gz").write_bytes(gz("\n".join(lines)))
    trail = root / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27"
    trail.mkdir(parents=True)
    (trail / "111122223333_CloudTrail_us-east-1_20261127T1020Z_AbCd.json.gz").write_bytes(
        gz(json.dumps({"Records": [ASSUME_ROLE]})))
    digest = root / "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/27"
    digest.mkdir(parents=True)
    (digest / "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261127T102000Z.json.gz").write_bytes(gz(b"{}"))


def test_normalize_directory_prints_documents_and_the_summary(tmp_path, capsys):
    make_bucket(tmp_path / "bucket")
    dlq = tmp_path / "dead" / "letters.ndjson"
    assert main(["normalize", str(tmp_path / "bucket"), "--dlq", str(dlq)]) == 1  # finished, with one dead letter
    out, err = capsys.readouterr()
    docs = [json.loads(line) for line in out.splitlines()]
    assert sorted(d["event"]["dataset"] for d in docs) == ["aws.cloudtrail", "aws.vpcflow", "aws.vpcflow"]
    assert err.rstrip("\n").splitlines()[-1] == "read 5, written 3, skipped 1, dead-lettered 1 (3 objects)"
    letters = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(letters) == 1
    assert letters[0]["origin"].endswith("_1a2b3c4d.log.gz")
    assert letters[0]["location"] == "line 3" and "dstport" in letters[0]["reason"]
    assert letters[0]["record"] == v2_line(dport="x")


def test_normalize_ids_do_not_depend_on_where_the_bucket_was_downloaded(tmp_path, capsys):
    make_bucket(tmp_path / "a")
    make_bucket(tmp_path / "b")
    main(["normalize", str(tmp_path / "a"), "--dlq", str(tmp_path / "a.dlq")])
    first = [json.loads(line)["event"]["id"] for line in capsys.readouterr().out.splitlines()]
    main(["normalize", str(tmp_path / "b"), "--dlq", str(tmp_path / "b.dlq")])
    second = [json.loads(line)["event"]["id"] for line in capsys.readouterr().out.splitlines()]
    assert first == second and len(set(first)) == 3


def test_normalize_missing_path_exits_2_with_one_line_and_no_traceback(tmp_path, capsys):
    code = main(["normalize", str(tmp_path / "missing")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and "missing" in errors[0] and "no such file" in errors[0]


def test_normalize_type_forces_the_format_of_a_bare_file(tmp_path, capsys):
    path = tmp_path / "lines.txt"
    path.write_text("5 10.0.0.1 10.0.0.2 1234 80 6 REJECT 1700000000 1700000060\n")
    code = main(["normalize", "--type", "vpcflow",
                 "--vpcflow-format", "version srcaddr dstaddr srcport dstport protocol action start end", str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    docs = [json.loads(line) for line in out.splitlines()]
    assert len(docs) == 1 and docs[0]["event"]["outcome"] == "failure" and docs[0]["source"]["port"] == 1234
    assert err.splitlines()[-1].startswith("read 1, written 1,")


def test_normalize_without_type_skips_a_bare_unknown_file(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert main(["normalize", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines()[-1] == "read 1, written 0, skipped 1, dead-lettered 0 (1 objects)"


def test_normalize_drop_nodata_flag(tmp_path, capsys):
    path = tmp_path / "f.log"
    path.write_text(v2_line() + "\n2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA\n")
    assert main(["normalize", "--type", "vpcflow", "--drop-nodata", str(path)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "read 2, written 1, skipped 1, dead-lettered 0 (1 objects)"


def test_unknown_command_exits_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_demo_writes_one_ndjson_per_dataset_with_the_manifest_counts(tmp_path, capsys):
    manifest = generate_estate(tmp_path / "reference")
    out_dir = tmp_path / "demo"
    assert main(["demo", "--out", str(out_dir)]) == 0
    err = capsys.readouterr().err

    def count(name: str) -> int:
        with open(out_dir / name, "rb") as handle:
            return sum(1 for _ in handle)

    assert count("aws.vpcflow.ndjson") == manifest.flow_records_total
    assert count("aws.cloudtrail.ndjson") == manifest.cloudtrail_records_total + manifest.insight_records
    assert count("aws.config.ndjson") >= manifest.config_items_total
    summary = err.splitlines()[-1]
    assert summary.endswith(f"({len(manifest.keys)} objects)")
    assert f"skipped {len(manifest.skipped_by_rule)}," in summary
    assert "dead-lettered 0" in summary
