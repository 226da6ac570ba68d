"""The demo dataset through the Splunk HEC sink into the real receiver (gzip and ack on)."""

from __future__ import annotations

import collections
from pathlib import Path

import orjson
import pytest

from connector.cli import main
from connector.demo.estate import DemoManifest
from connector.normalize.timestamps import iso_to_epoch
from tests.servers.hec_receiver import HecReceiver

INDEXES = {"aws.vpcflow": "aws_vpcflow", "aws.cloudtrail": "aws_cloudtrail", "aws.config": "aws_config"}


def test_demo_dataset_arrives_once_with_time_sourcetype_index_source(
    demo_estate: tuple[Path, DemoManifest], hec_receiver: HecReceiver, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root, manifest = demo_estate
    config = tmp_path / "connector.yaml"
    config.write_text(
        "splunk_hec:\n  ack: true\n  gzip: true\n  indexes:\n"
        + "".join(f"    {k}: {v}\n" for k, v in INDEXES.items())
    )
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", hec_receiver.token)
    code = main(["backfill", "--source", str(root), "--sink", "splunk", "--hec-url", hec_receiver.url,
                 "--config", str(config), "--dlq", str(tmp_path / "dlq.ndjson")])
    assert code == 0, capsys.readouterr().err
    expected_total = (manifest.flow_records_total + manifest.cloudtrail_records_total + manifest.insight_records
                      + manifest.config_items_total + len(manifest.notification_files))
    assert f"written {expected_total}," in capsys.readouterr().err

    events = hec_receiver.read_events(expected=expected_total, timeout=120)
    assert len(events) == expected_total
    # A Config item may legitimately come twice from different objects (history file and
    # change notification, with the same event.id); per object every record arrives once.
    ids = collections.Counter((e["source"], e["event"]["event"]["id"]) for e in events)
    assert max(ids.values()) == 1, "an event arrived twice"
    by_sourcetype = collections.Counter(e["sourcetype"] for e in events)
    assert by_sourcetype == {
        "aws:connector:vpcflow": manifest.flow_records_total,
        "aws:connector:cloudtrail": manifest.cloudtrail_records_total + manifest.insight_records,
        "aws:connector:config": manifest.config_items_total + len(manifest.notification_files),
    }
    # Documents arrive intact: each equals what the file sink writes for the same record.
    assert main(["backfill", "--source", str(root), "--sink", "file", "--out", str(tmp_path / "files")]) == 0
    written: dict[tuple[str, str, str], dict[str, object] | None] = {}
    for path in (tmp_path / "files").glob("*.ndjson"):
        for line in path.read_bytes().splitlines():
            doc = orjson.loads(line)
            del doc["event"]["ingested"]
            key = (path.name, doc["event"]["id"], doc["@timestamp"])
            written[key] = None if key in written else doc  # ambiguous keys are not compared
    compared = 0
    for event in events:
        doc = event["event"]
        assert event["index"] == INDEXES[doc["event"]["dataset"]]
        assert Path(event["source"]).is_relative_to(root)
        assert abs(float(event["time"]) - iso_to_epoch(doc["@timestamp"])) < 0.001
        del doc["event"]["ingested"]
        twin = written[(doc["event"]["dataset"] + ".ndjson", doc["event"]["id"], doc["@timestamp"])]
        if twin is not None:
            assert doc == twin
            compared += 1
    assert compared >= expected_total - 4
