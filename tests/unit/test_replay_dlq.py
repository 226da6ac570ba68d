"""replay-dlq: documents go out again, everything else stays in a new dead-letter file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.dlq import dead_letter_json
from connector.sinks.base import DeadLetter
from tests.faults import Reconciliation, dead_letter_ids
from tests.search.ecs_docs import cloudtrail_doc, flow_doc


def _letters(path: Path, letters: list[DeadLetter], extra: bytes = b"") -> bytes:
    data = b"".join(dead_letter_json(letter) for letter in letters) + extra
    path.write_bytes(data)
    return data


def _ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.faults
def test_documents_are_sent_and_the_rest_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = [flow_doc(n) for n in range(3)]
    trail = cloudtrail_doc(1)
    dlq = tmp_path / "dlq.ndjson"
    original = _letters(
        dlq,
        [DeadLetter(doc, "HTTP 429 es_rejected_execution_exception: queue full", f"s3://b/k{n}", "x")
         for n, doc in enumerate(flows)]
        + [DeadLetter(trail, "HTTP 503: unavailable", "s3://b/trail.json.gz", "y"),
           DeadLetter("2 123 eni-1", "wrong field count: 3 of 14", "s3://b/flow.log.gz", "line 7"),
           DeadLetter({"eventVersion": "1.09"}, "not a CloudTrail record", "s3://b/t2.json.gz", "record 4")],
        # A line copied from stderr, and a line that is not JSON at all.
        b"dead letter: " + dead_letter_json(DeadLetter(flows[0], "r", "s3://b/k0", "x")) + b'{"broken\n',
    )
    remaining = tmp_path / "left.ndjson"
    out = tmp_path / "out"

    code = main(["replay-dlq", str(dlq), "--sink", "file", "--out", str(out), "--dlq", str(remaining)])

    assert code == 1  # something stays dead
    assert dlq.read_bytes() == original
    assert _ndjson(out / "aws.vpcflow.ndjson") == [*flows, flows[0]]
    assert _ndjson(out / "aws.cloudtrail.ndjson") == [trail]
    left = _ndjson(remaining)
    assert [(e["origin"], e["location"]) for e in left] == [
        ("s3://b/flow.log.gz", "line 7"), ("s3://b/t2.json.gz", "record 4"), (str(dlq), "line 8")]
    assert left[0]["reason"] == ("not replayed: no ECS document in this dead letter"
                                 " (it was: wrong field count: 3 of 14)")
    assert left[0]["record"] == "2 123 eni-1" and left[1]["record"] == {"eventVersion": "1.09"}
    assert left[2]["reason"].startswith("unreadable dead-letter line") and left[2]["record"] == '{"broken'
    assert capsys.readouterr().err.strip().endswith(
        "replayed 8 dead letters: delivered 5, refused again 0, not replayable 2, unreadable 1;"
        f" 3 kept in {remaining}")
    # The file's records: each letter by its record's id or position; the line that is no JSON by its own.
    lines = original.decode().splitlines()
    entries = [json.loads(line.removeprefix("dead letter: ")) for line in lines[:-1]]
    source = [*dead_letter_ids(entries), f"{dlq} line {len(lines)}"]
    delivered = [d["event"]["id"] for name in ("aws.vpcflow", "aws.cloudtrail")
                 for d in _ndjson(out / f"{name}.ndjson")]
    with capsys.disabled():  # the scenario line goes to the terminal, not to the captured output
        Reconciliation.of("replay-dlq-file", source, delivered, dead_letter_ids(left)).assert_nothing_lost()

    # Replaying what was kept keeps it again, without wrapping the reason twice.
    again = tmp_path / "again.ndjson"
    assert main(["replay-dlq", str(remaining), "--sink", "file", "--out", str(out), "--dlq", str(again)]) == 1
    assert [e["reason"] for e in _ndjson(again)][:2] == [e["reason"] for e in left[:2]]


def test_a_replay_that_delivers_everything_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = tmp_path / "dead-letters.ndjson"
    _letters(dlq, [DeadLetter(flow_doc(n), "HTTP 503", "s3://b/k", "x") for n in range(4)])
    code = main(["replay-dlq", str(dlq), "--sink", "file", "--out", str(tmp_path / "out")])
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dead-letters.ndjson", "out"]
    assert len(_ndjson(tmp_path / "out" / "aws.vpcflow.ndjson")) == 4
    assert capsys.readouterr().err.strip().endswith(
        "replayed 4 dead letters: delivered 4, refused again 0, not replayable 0, unreadable 0")


def test_the_remaining_file_defaults_to_a_timestamped_sibling(tmp_path: Path) -> None:
    dlq = tmp_path / "dead-letters.ndjson"
    _letters(dlq, [DeadLetter("raw line", "wrong field count", "s3://b/k", "line 1")])
    assert main(["replay-dlq", str(dlq), "--sink", "file", "--out", str(tmp_path / "out")]) == 1
    (kept,) = tmp_path.glob("dead-letters.remaining-*.ndjson")
    assert kept.name[len("dead-letters.remaining-"):-len(".ndjson")].endswith("Z")
    assert _ndjson(kept)[0]["record"] == "raw line"


def test_bad_invocations_get_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = tmp_path / "dlq.ndjson"
    _letters(dlq, [DeadLetter(flow_doc(1), "HTTP 503", "s3://b/k", "x")])
    assert main(["replay-dlq", str(dlq), "--sink", "file", "--dlq", str(dlq)]) == 2
    assert "is the file being replayed" in capsys.readouterr().err
    assert main(["replay-dlq", str(tmp_path / "missing.ndjson"), "--sink", "file"]) == 2
    assert "no dead-letter file at" in capsys.readouterr().err
    assert main(["replay-dlq", str(dlq)]) == 2
    assert "no sink chosen" in capsys.readouterr().err
    assert dlq.exists() and not (tmp_path / "out").exists()
