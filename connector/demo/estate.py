"""Writes one day of a small AWS estate's telemetry as AWS lays it out in S3: one seeded generator
drives the estate and its three datasets in a fixed order, and a manifest says what the files hold,
down to what each detection must find in them.

What was added for the detections' labels (a reject flood, look-alikes, a sign-in from abroad,
the changes the CIS rules watch) draws from a second generator derived from the seed, so the
day's other records do not change."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from connector.demo.actors import BRUTE_FORCE_RDP, BRUTE_FORCE_SSH, PORT_SCANNER
from connector.demo.cloudtrail import CloudTrail
from connector.demo.config import Config
from connector.demo.flowlogs import FlowLogs
from connector.demo.labels import DetectionLabel, LabelRecorder
from connector.demo.resources import Estate


@dataclass(frozen=True)
class DemoManifest:
    """What `generate_estate` wrote and the counts a reader of those files must arrive at."""

    root: Path
    day: dt.date
    seed: int
    keys: tuple[str, ...]
    flow_log_files: tuple[str, ...]
    flow_records_per_file: dict[str, int]
    flow_records_total: int
    flow_records_by_log_status: dict[str, int]
    flow_ipv6_records: int
    flow_rejects_by_source: dict[str, int]
    cloudtrail_files: tuple[str, ...]
    cloudtrail_records_per_file: dict[str, int]
    cloudtrail_records_total: int
    console_login_failures: dict[str, int]
    console_login_successes: int
    root_console_logins: int
    stop_logging_events: int
    start_logging_events: int
    access_denied_events: int
    insight_files: tuple[str, ...]
    insight_records: int
    config_files: tuple[str, ...]
    config_items_per_file: dict[str, int]
    config_items_total: int
    non_compliant: tuple[tuple[str, str, str], ...]
    notification_files: tuple[str, ...]
    skipped_by_rule: tuple[str, ...]
    brute_force_sources: dict[str, str]
    port_scan_source: str
    port_scan_country: str
    port_scan_ports: int
    labels: dict[str, DetectionLabel]  # by the id of the detection's alerting rule


def generate_estate(root: Path, day: dt.date = dt.date(2026, 11, 27), seed: int = 7) -> DemoManifest:
    """Write the demo bucket under `root`; same arguments give byte-identical files."""
    rng = random.Random(seed)
    labels = LabelRecorder(random.Random(f"{seed}/planted"))
    estate = Estate(rng)
    day0 = calendar.timegm(day.timetuple())
    objects: dict[str, bytes] = {}

    flow = FlowLogs(rng, estate, day, day0, labels)
    flow.generate()
    objects.update(flow.objects)

    trail = CloudTrail(rng, estate, day, day0, labels)
    trail.generate()
    objects.update(trail.objects)

    config = Config(
        rng,
        estate,
        day,
        day0,
        trail.scenario_event_ids,
        trail.debug_sg,
        trail.new_dev_instance,
        trail.tmp_user_id,
    )
    config.generate()
    objects.update(config.objects)

    root.mkdir(parents=True, exist_ok=True)
    for key in sorted(objects):
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(objects[key])

    return DemoManifest(
        root=root,
        day=day,
        seed=seed,
        keys=tuple(sorted(objects)),
        flow_log_files=tuple(sorted(flow.counts)),
        flow_records_per_file=dict(sorted(flow.counts.items())),
        flow_records_total=sum(flow.counts.values()),
        flow_records_by_log_status=dict(sorted(flow.log_status.items())),
        flow_ipv6_records=flow.ipv6,
        flow_rejects_by_source=dict(flow.rejects.most_common()),
        cloudtrail_files=tuple(sorted(trail.counts)),
        cloudtrail_records_per_file=dict(sorted(trail.counts.items())),
        cloudtrail_records_total=sum(trail.counts.values()),
        console_login_failures=dict(sorted(trail.login_failures.items())),
        console_login_successes=trail.login_successes,
        root_console_logins=trail.root_logins,
        stop_logging_events=trail.event_names["StopLogging"],
        start_logging_events=trail.event_names["StartLogging"],
        access_denied_events=trail.access_denied,
        insight_files=tuple(sorted(trail.insight_counts)),
        insight_records=sum(trail.insight_counts.values()),
        config_files=tuple(sorted(config.counts)),
        config_items_per_file=dict(sorted(config.counts.items())),
        config_items_total=sum(config.counts.values()),
        non_compliant=tuple(sorted(config.non_compliant)),
        notification_files=tuple(sorted(config.notifications)),
        skipped_by_rule=tuple(sorted(trail.skipped + config.skipped)),
        brute_force_sources=dict(BRUTE_FORCE_SSH + BRUTE_FORCE_RDP),
        port_scan_source=PORT_SCANNER[0],
        port_scan_country=PORT_SCANNER[1],
        port_scan_ports=len(flow.scanned_ports),
        labels=labels.labels(),
    )
