"""The checkpoint file and the repair of a half-written NDJSON tail left by a kill."""

from __future__ import annotations

from pathlib import Path

from connector.backfill import repair_ndjson_tails
from connector.checkpoint import Checkpoint


def test_finished_objects_are_keyed_by_key_and_etag_and_survive_reopening(tmp_path: Path):
    path = tmp_path / "state" / "cp.sqlite"
    checkpoint = Checkpoint(path)
    checkpoint.mark_finished("AWSLogs/1/a.gz", "etag-1", 10)
    checkpoint.mark_many([("AWSLogs/1/b.gz", "etag-2", 0), ("AWSLogs/1/a.gz", "etag-1", 10)])
    checkpoint.close()

    reopened = Checkpoint(path)
    assert reopened.finished() == {("AWSLogs/1/a.gz", "etag-1"), ("AWSLogs/1/b.gz", "etag-2")}
    assert reopened.is_finished("AWSLogs/1/a.gz", "etag-1")
    # The same key rewritten (a new ETag) is a new object to read.
    assert not reopened.is_finished("AWSLogs/1/a.gz", "etag-9")
    assert reopened.count() == 2
    assert reopened._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened.close()


def test_two_connections_commit_to_one_file(tmp_path: Path):
    first, second = Checkpoint(tmp_path / "cp.sqlite"), Checkpoint(tmp_path / "cp.sqlite")
    for i in range(50):
        (first if i % 2 else second).mark_finished(f"k{i}", "e", i)
    assert first.count() == second.count() == 50
    first.close()
    second.close()


def test_half_written_last_line_is_cut_and_whole_lines_stay(tmp_path: Path):
    whole = tmp_path / "aws.vpcflow.ndjson"
    whole.write_bytes(b'{"a":1}\n{"a":2}\n')
    torn = tmp_path / "aws.cloudtrail.0.ndjson"
    torn.write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    only_torn = tmp_path / "aws.config.ndjson"
    only_torn.write_bytes(b'{"a":' + b"x" * 200_000)
    (tmp_path / "empty.ndjson").write_bytes(b"")

    assert repair_ndjson_tails(tmp_path) == 5 + 5 + 200_000
    assert whole.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert torn.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert only_torn.read_bytes() == b""
    assert repair_ndjson_tails(tmp_path / "missing") == 0
