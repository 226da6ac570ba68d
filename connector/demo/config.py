"""AWS Config's delivery of the demo day: history files per resource type and six hours, the
daily snapshot, two SNS notifications, and the writability check file a reader must skip."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from connector.demo.actors import PROD, REGION
from connector.demo.aws_formats import compact_json, gzip_bytes, iso_basic
from connector.demo.config_history import day_changes
from connector.demo.config_items import ConfigItemBuilder
from connector.demo.config_notifications import config_notifications
from connector.demo.config_snapshot import snapshot_items
from connector.demo.random_ids import random_uuid
from connector.demo.resources import Estate


class Config:
    """Configuration history, one snapshot, compliance results and two SNS notifications."""

    def __init__(
        self,
        rng: random.Random,
        estate: Estate,
        day: dt.date,
        day0: int,
        event_ids: dict[str, str],
        debug_sg: str,
        new_instance: str,
        tmp_user_id: str,
    ) -> None:
        self.rng = rng
        self.debug_sg = debug_sg
        self.new_instance = new_instance
        self.estate = estate
        self.day = day
        self.day0 = day0
        self.event_ids = event_ids
        self.objects: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.non_compliant: set[tuple[str, str, str]] = set()
        self.notifications: list[str] = []
        self.skipped: list[str] = []
        self.build = ConfigItemBuilder(rng, estate, day0, tmp_user_id)

    def generate(self) -> None:
        """Fill `objects` with the day's Config files and the notifications Config sends about them."""
        changes = day_changes(self.build, self.event_ids, self.debug_sg, self.new_instance)
        self._write_history(changes.items)
        self._write_snapshot()
        notes = config_notifications(self.rng, self.day0, changes, self.estate.sg["bastion-sg"])
        self.objects.update(notes)
        self.notifications.extend(notes)
        key = f"AWSLogs/{PROD}/Config/ConfigWritabilityCheckFile"
        self.objects[key] = b"ConfigWritabilityCheckFile\n"
        self.skipped.append(key)

    def _prefix(self, account: str, region: str) -> str:
        # Config, unlike CloudTrail and flow logs, does not zero-pad month and day in its prefix.
        return f"AWSLogs/{account}/Config/{region}/{self.day.year}/{self.day.month}/{self.day.day}/"

    def _write_history(self, history: list[tuple[str, str, dict[str, Any]]]) -> None:
        groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
        for account, region, item in history:
            t = item["configurationStateId"] // 1000
            groups.setdefault((account, region, item["resourceType"], (t - self.day0) // 21600), []).append(item)
        for (account, region, rtype, _), items in sorted(groups.items()):
            items.sort(key=lambda i: i["configurationStateId"])
            first = iso_basic(items[0]["configurationStateId"] // 1000)
            last = iso_basic(items[-1]["configurationStateId"] // 1000)
            key = (
                f"{self._prefix(account, region)}ConfigHistory/"
                f"{account}_Config_{region}_ConfigHistory_{rtype}_{first}_{last}_1.json.gz"
            )
            self._put(key, {"fileVersion": "1.0", "configurationItems": items})

    def _put(self, key: str, body: dict[str, Any]) -> None:
        self.objects[key] = gzip_bytes(compact_json(body))
        self.counts[key] = len(body["configurationItems"])
        for item in body["configurationItems"]:
            if item["resourceType"] == "AWS::Config::ResourceCompliance":
                conf = item["configuration"]
                for rule in conf["configRuleList"]:
                    if rule["complianceType"] == "NON_COMPLIANT":
                        self.non_compliant.add(
                            (rule["configRuleName"], conf["targetResourceType"], conf["targetResourceId"])
                        )

    def _write_snapshot(self) -> None:
        taken, items = snapshot_items(self.build)
        snapshot_id = random_uuid(self.rng)
        key = (
            f"{self._prefix(PROD, REGION)}ConfigSnapshot/"
            f"{PROD}_Config_{REGION}_ConfigSnapshot_{iso_basic(taken)}_{snapshot_id}.json.gz"
        )
        self._put(key, {"fileVersion": "1.0", "configSnapshotId": snapshot_id, "configurationItems": items})
