"""Running a backfill: the summary (plain and as a table with live progress), resume from the checkpoint
after SIGKILL, several worker processes, and --enqueue onto SQS as S3 notifications."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import signal
import sqlite3
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from rich.console import Console

from connector.backfill import run_s3_backfill
from connector.commands.options import config_from_args
from connector.sources.sqs import ReadObjects, parse_message
from tests.backfill import cli_entry
from tests.backfill._support import (
    backfill_argv,
    command_env,
    kill_process_when,
    read_docs,
    run_backfill,
    summary_values,
)
from tests.backfill.conftest import BUCKET
from tests.backfill.estate import Estate, expected_id_list, expected_ids
from tests.faults import Reconciliation, dead_letter_ids

DAY = dt.date(2026, 1, 12)


def finished_rows(checkpoint: Path) -> int:
    if not checkpoint.exists():
        return 0
    try:
        with sqlite3.connect(checkpoint, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM finished").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the table is being created


def test_summary_in_plain_text_counts_every_object_and_record(moto, estate: Estate, tmp_path: Path):
    out, checkpoint = tmp_path / "out", tmp_path / "cp.sqlite"
    argv = backfill_argv("2026-01-12", "2026-01-12", out, checkpoint, "--no-progress")
    done = run_backfill(argv, command_env(moto.env))
    assert done.returncode == 0, done.stderr
    values = summary_values(done.stderr)
    keys = estate.keys(DAY, DAY)
    ids = expected_id_list(estate, keys)
    docs = read_docs(out)
    assert sorted(d["event"]["id"] for d in docs) == sorted(ids)
    by_dataset = {ds: sum(1 for d in docs if d["event"]["dataset"] == ds) for ds in ("aws.cloudtrail", "aws.config",
                                                                                       "aws.vpcflow")}
    assert values["objects listed"] == str(len(keys))
    assert values["objects done"] == str(len(keys))
    assert values["objects skipped (already in checkpoint)"] == "0"
    assert values["objects failed"] == "0"
    for dataset, count in by_dataset.items():
        assert values[f"{dataset} records written"] == str(count)
        assert values[f"{dataset} records skipped"] == "0"
        assert values[f"{dataset} records dead-lettered"] == "0"
    sizes = sum(len(o.body) for o in estate.objects if o.key in keys)
    assert values["bytes read"].split()[0] == str(sizes)
    assert values["elapsed"].endswith(" s") and int(values["records/s"]) > 0

    again = run_backfill(argv, command_env(moto.env))
    assert again.returncode == 0, again.stderr
    values = summary_values(again.stderr)
    assert (values["objects done"], values["objects skipped (already in checkpoint)"]) == ("0", str(len(keys)))
    assert len(read_docs(out)) == len(ids)  # nothing written twice
    assert "skipping 16 objects already in checkpoint" in again.stderr


def test_progress_display_and_summary_table_on_a_terminal(moto_env, estate: Estate, tmp_path: Path):
    args = cli_entry.parse(backfill_argv("2026-01-12", "2026-01-13", tmp_path / "out", tmp_path / "cp.sqlite"))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None)
    assert run_s3_backfill(args, config_from_args(args), console=console) == 0
    text = screen.getvalue()
    objects = len(estate.keys(DAY, DAY + dt.timedelta(days=1)))
    assert f"{objects}/{objects} objects" in text and "records/s" in text and "errors 0" in text
    assert "ETA" in text
    table = text[text.index("backfill summary"):]
    for row in ("objects listed", "objects done", "objects skipped (already in checkpoint)", "objects failed",
                "aws.vpcflow records written", "aws.cloudtrail records dead-lettered", "aws.config records skipped",
                "bytes read", "elapsed", "records/s"):
        assert f"│ {row}" in table, row
    assert re.search(rf"│ objects listed\s+│\s+{objects} │", table), table
    assert re.search(r"│ objects skipped \(already in checkpoint\)\s+│\s+0 │", table), table


@pytest.mark.faults
def test_sigkill_three_times_then_resume_loses_nothing_and_adds_nothing(moto, estate: Estate, tmp_path: Path):
    start, end = dt.date(2026, 1, 5), dt.date(2026, 1, 12)
    out, checkpoint, log = tmp_path / "out", tmp_path / "cp.sqlite", tmp_path / "runs.log"
    dead = tmp_path / "dead-letters.ndjson"
    argv = backfill_argv(f"{start}", f"{end}", out, checkpoint, "--no-progress", "--dlq", str(dead))
    # Small batches, so objects settle (and are checkpointed) one after another, not all at the end.
    env = command_env(moto.env, AWS_SIEM_CONNECTOR_PIPELINE__BATCH_DOCS="20")
    keys = estate.keys(start, end)

    def kill_when(ready) -> int:
        return kill_process_when(argv, env, log, ready, timeout=60)

    # 1: as soon as the first documents are on disk (nothing or almost nothing checkpointed yet).
    assert kill_when(lambda: any(p.stat().st_size for p in out.glob("*.ndjson"))) == -signal.SIGKILL
    first = finished_rows(checkpoint)
    # 2 and 3: in the middle and near the end of what is left.
    assert kill_when(lambda: finished_rows(checkpoint) >= first + len(keys) // 3) == -signal.SIGKILL
    second = finished_rows(checkpoint)
    assert kill_when(lambda: finished_rows(checkpoint) >= second + (len(keys) - second) // 2) == -signal.SIGKILL
    third = finished_rows(checkpoint)
    assert first < second < third < len(keys)

    final = run_backfill(argv, env)
    assert final.returncode == 0, final.stderr
    values = summary_values(final.stderr)
    assert values["objects listed"] == str(len(keys))
    assert values["objects skipped (already in checkpoint)"] == str(third)
    assert values["objects done"] == str(len(keys) - third)
    assert finished_rows(checkpoint) == len(keys)
    arrived = [d["event"]["id"] for d in read_docs(out)]
    ids = set(arrived)
    assert ids == expected_ids(estate, keys)
    assert not ids & expected_ids(estate, set(o.key for o in estate.objects) - keys)
    letters = [json.loads(line) for line in dead.read_text().splitlines()] if dead.exists() else []
    # Objects written but not yet checkpointed when a kill came are read again: duplicates.
    Reconciliation.of("backfill-sigkill-three-times-then-resume", expected_id_list(estate, keys), arrived,
                      dead_letter_ids(letters)).assert_nothing_lost()


def test_two_workers_write_their_own_files_and_share_the_checkpoint(moto, estate: Estate, tmp_path: Path):
    out, checkpoint = tmp_path / "out", tmp_path / "cp.sqlite"
    start, end = dt.date(2026, 1, 20), dt.date(2026, 1, 22)
    argv = backfill_argv(f"{start}", f"{end}", out, checkpoint, "--no-progress", "--workers", "2")
    done = run_backfill(argv, command_env(moto.env, AWS_SIEM_CONNECTOR_PIPELINE__BATCH_DOCS="20"))
    assert done.returncode == 0, done.stderr
    keys = estate.keys(start, end)
    # Which worker took which object depends on scheduling; each writes only files of its own.
    names = {p.name for p in out.glob("*.ndjson")}
    assert names <= {f"{ds}.{w}.ndjson" for ds in ("aws.cloudtrail", "aws.config", "aws.vpcflow") for w in (0, 1)}
    assert {name.split(".")[1] for name in names} == {"cloudtrail", "config", "vpcflow"}
    docs = read_docs(out)
    assert sorted(d["event"]["id"] for d in docs) == sorted(expected_id_list(estate, keys))
    assert summary_values(done.stderr)["objects done"] == str(len(keys))
    assert finished_rows(checkpoint) == len(keys)


def test_enqueue_puts_one_s3_notification_per_object_on_the_queue(moto, moto_env, estate: Estate, tmp_path: Path):
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName="backfill-work")["QueueUrl"]
    args = cli_entry.parse(["--bucket", BUCKET, "--prefix", "security", "--start", "2026-01-12", "--end",
                            "2026-01-12", "--enqueue", url, "--region", "us-east-1"])
    screen = io.StringIO()
    assert run_s3_backfill(args, config_from_args(args), console=Console(file=screen, width=200)) == 0
    keys = estate.keys(DAY, DAY, regions=("us-east-1",))
    assert f"enqueued {len(keys)} objects to {url}" in screen.getvalue()
    received: list[dict] = []
    forwarded: set[str] = set()
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for message in batch:
            # The `forward` service reads it as it reads S3's own notifications.
            plan = parse_message(message["Body"], message["MessageId"])
            assert isinstance(plan, ReadObjects) and len(plan.objects) == 1, plan
            received.append(json.loads(message["Body"]))
            forwarded.add(plan.objects[0].key)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])
    assert len(received) == len(keys)
    sizes = {o.key: len(o.body) for o in estate.objects}
    seen = set()
    for body in received:
        (record,) = body["Records"]
        assert record["eventSource"] == "aws:s3" and record["eventName"].startswith("ObjectCreated:")
        assert record["s3"]["bucket"]["name"] == BUCKET
        assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{BUCKET}"
        key = unquote_plus(record["s3"]["object"]["key"])
        assert record["s3"]["object"]["size"] == sizes[key]
        seen.add(key)
    assert seen == keys == forwarded
    assert any("aws-account-id%3D" in b["Records"][0]["s3"]["object"]["key"] for b in received)


def test_role_arn_and_type_filter_through_the_command(moto, estate: Estate, tmp_path: Path):
    out = tmp_path / "out"
    argv = backfill_argv("2026-01-14", "2026-01-14", out, tmp_path / "cp.sqlite", "--no-progress", "--type", "config",
                         "--role-arn", "arn:aws:iam::111122223333:role/log-reader", "--external-id", "soc-42")
    done = run_backfill(argv, command_env(moto.env))
    assert done.returncode == 0, done.stderr
    day = dt.date(2026, 1, 14)
    keys = estate.keys(day, day, kinds=("config",))
    assert summary_values(done.stderr)["objects listed"] == str(len(keys))
    docs = read_docs(out)
    assert {d["event"]["dataset"] for d in docs} == {"aws.config"}
    assert sorted(d["event"]["id"] for d in docs) == sorted(expected_id_list(estate, keys))


def test_bad_dates_are_one_clear_error(moto, tmp_path: Path):
    done = run_backfill(backfill_argv("2026-01-14", "2026-01-02", tmp_path / "out", tmp_path / "cp.sqlite"),
                        command_env(moto.env))
    assert done.returncode == 2
    assert "--end 2026-01-02 is before --start 2026-01-14" in done.stderr and "Traceback" not in done.stderr
