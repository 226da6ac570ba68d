"""A 30-day, 2-account, 2-region log bucket in the real S3 key layouts, small objects of every kind.

Account A delivers its own trail, plain flow logs and Config; account B is in an organization trail
(``AWSLogs/o-.../B/CloudTrail``), delivers Hive-style flow logs and Config. Everything sits under a
custom prefix, and a digest folder and a Config writability-check object are there to be ignored.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connector.formats.detect import CLOUDTRAIL, CONFIG, VPCFLOW
from connector.pipeline import NormalizedChunk, RecordProcessor
from connector.sources.base import WorkUnit
from tests.unit.cloudtrail_records import ASSUME_ROLE
from tests.unit.config_records import SECURITY_GROUP_ITEM

ACCOUNT_A = "111122223333"
ACCOUNT_B = "444455556666"
ACCOUNTS = (ACCOUNT_A, ACCOUNT_B)
REGIONS = ("us-east-1", "eu-west-1")
ORG = "o-abc123def4"
PREFIX = "security"
FIRST_DAY = dt.date(2026, 1, 1)
DAYS = 30
FLOW_HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
               "action log-status")


@dataclass(frozen=True)
class EstateObject:
    """One object put into the bucket, with what it is and which day it belongs to."""

    key: str
    body: bytes
    kind: str
    account: str
    region: str
    day: dt.date


@dataclass
class Estate:
    """Every object of the generated bucket."""

    bucket: str
    objects: list[EstateObject] = field(default_factory=list)

    def keys(self, start: dt.date, end: dt.date, accounts: tuple[str, ...] = ACCOUNTS,
             regions: tuple[str, ...] = REGIONS, kinds: tuple[str, ...] = (VPCFLOW, CLOUDTRAIL, CONFIG)) -> set[str]:
        """Keys of the loadable objects of the days in range (inclusive), filtered."""
        return {o.key for o in self.objects if start <= o.day <= end and o.account in accounts
                and o.region in regions and o.kind in kinds}


def _gz(data: str | bytes) -> bytes:
    return gzip.compress(data.encode() if isinstance(data, str) else data, mtime=0)


def _stamp(day: dt.date, hour: int) -> str:
    return f"{day:%Y%m%d}T{hour:02d}00Z"


def _epoch(day: dt.date, hour: int) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp())


def _flow_body(account: str, region: str, day: dt.date, hour: int, lines: int) -> bytes:
    t = _epoch(day, hour)
    octet = REGIONS.index(region) + 1
    rows = [FLOW_HEADER] + [
        f"2 {account} eni-0a1b2c3d4e5f6071{octet} 10.{octet}.0.{i % 250 + 1} 203.0.113.{day.day} "
        f"{40000 + i} 443 6 {i + 1} {840 + i} {t + i} {t + i + 60} ACCEPT OK" for i in range(lines)]
    return _gz("\n".join(rows) + "\n")


def _trail_body(account: str, region: str, day: dt.date, hour: int, records: int) -> bytes:
    events = []
    for i in range(records):
        event = copy.deepcopy(ASSUME_ROLE)
        event["eventID"] = f"{account}-{region}-{day:%Y%m%d}-{hour:02d}-{i:03d}"
        event["eventTime"] = f"{day:%Y-%m-%d}T{hour:02d}:{i % 60:02d}:00Z"
        event["awsRegion"] = region
        event["recipientAccountId"] = account
        events.append(event)
    return _gz(json.dumps({"Records": events}))


def _config_items(account: str, region: str, day: dt.date, items: int) -> list[dict[str, Any]]:
    out = []
    for i in range(items):
        item = copy.deepcopy(SECURITY_GROUP_ITEM)
        item["awsAccountId"] = account
        item["awsRegion"] = region
        item["resourceId"] = f"sg-{account[-4:]}{REGIONS.index(region)}{i:03d}"
        item["configurationStateId"] = int(f"{day:%Y%m%d}{i:03d}")
        item["configurationItemCaptureTime"] = f"{day:%Y-%m-%d}T12:{i % 60:02d}:00.000Z"
        out.append(item)
    return out


def estate_objects(bucket: str) -> Estate:
    """The bucket's content, generated deterministically."""
    estate = Estate(bucket)
    add = estate.objects.append
    for n in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=n)
        ymd, ymd_config = f"{day:%Y/%m/%d}", f"{day.year}/{day.month}/{day.day}"
        for account in ACCOUNTS:
            for region in REGIONS:
                trail_root = (f"{PREFIX}/AWSLogs/{account}" if account == ACCOUNT_A
                              else f"{PREFIX}/AWSLogs/{ORG}/{account}")
                for hour in (3, 15):
                    add(EstateObject(
                        f"{trail_root}/CloudTrail/{region}/{ymd}/"
                        f"{account}_CloudTrail_{region}_{_stamp(day, hour)}_a{n:02d}h{hour:02d}.json.gz",
                        _trail_body(account, region, day, hour, 4), CLOUDTRAIL, account, region, day))
                if account == ACCOUNT_A:
                    flow_dir = f"{PREFIX}/AWSLogs/{account}/vpcflowlogs/{region}/{ymd}/"
                else:
                    flow_dir = (f"{PREFIX}/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/"
                                f"aws-region={region}/year={day:%Y}/month={day:%m}/day={day:%d}/")
                add(EstateObject(
                    f"{flow_dir}{account}_vpcflowlogs_{region}_fl-0123456789abcdef0_{_stamp(day, 10)}_"
                    f"{n:08x}.log.gz", _flow_body(account, region, day, 10, 12), VPCFLOW, account, region, day))
                config_dir = f"{PREFIX}/AWSLogs/{account}/Config/{region}/{ymd_config}/"
                history = {"fileVersion": "1.0", "configurationItems": _config_items(account, region, day, 3)}
                add(EstateObject(
                    f"{config_dir}ConfigHistory/{account}_Config_{region}_ConfigHistory_AWS::EC2::SecurityGroup_"
                    f"{day:%Y%m%d}T000000Z_{day:%Y%m%d}T060000Z_1.json.gz",
                    _gz(json.dumps(history)), CONFIG, account, region, day))
                if day.day % 7 == 0:
                    snapshot = {"fileVersion": "1.0", "configSnapshotId": f"snap-{n}",
                                "configurationItems": _config_items(account, region, day, 2)}
                    add(EstateObject(
                        f"{config_dir}ConfigSnapshot/{account}_Config_{region}_ConfigSnapshot_"
                        f"{day:%Y%m%d}T180000Z_0000000{n:02d}.json.gz",
                        _gz(json.dumps(snapshot)), CONFIG, account, region, day))
    return estate


# Objects in the bucket that are not telemetry and must never be listed as work.
NOISE = (
    f"{PREFIX}/AWSLogs/{ACCOUNT_A}/CloudTrail-Digest/us-east-1/2026/01/10/"
    f"{ACCOUNT_A}_CloudTrail-Digest_us-east-1_trail_us-east-1_20260110T000000Z.json.gz",
    f"{PREFIX}/AWSLogs/{ACCOUNT_A}/Config/ConfigWritabilityCheckFile",
    f"{PREFIX}/AWSLogs/{ACCOUNT_A}/vpcflowlogs/us-east-1/2026/01/10/",
    f"elsewhere/AWSLogs/{ACCOUNT_A}/vpcflowlogs/us-east-1/2026/01/10/stray.log.gz",
)


def put_estate(s3: Any, bucket: str) -> Estate:
    """Create ``bucket`` and upload the estate (and the noise) into it."""
    estate = estate_objects(bucket)
    s3.create_bucket(Bucket=bucket)
    for obj in estate.objects:
        s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body)
    for key in NOISE:
        s3.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else _gz("{}"))
    return estate


def expected_id_list(estate: Estate, keys: set[str]) -> list[str]:
    """The ``event.id`` of every record of ``keys`` (computed by the reader over the bytes in memory).

    A Config snapshot repeats items of the same day's history, with the same ids: one id, two records.
    """
    processor = RecordProcessor(_no_geoip_config())
    ids: list[str] = []
    try:
        for obj in estate.objects:
            if obj.key in keys:
                ids.extend(_ids(processor, obj))
    finally:
        processor.close()
    return ids


def expected_ids(estate: Estate, keys: set[str]) -> set[str]:
    """The distinct ``event.id`` values of ``keys``."""
    return set(expected_id_list(estate, keys))


def _ids(processor: RecordProcessor, obj: EstateObject) -> Iterator[str]:
    body = obj.body
    unit = WorkUnit(origin=f"s3://bucket/{obj.key}", key=obj.key, open=lambda: io.BytesIO(body),
                    size=len(body), type_hint=obj.kind)
    for item in processor.process(unit):
        assert isinstance(item, NormalizedChunk), f"{obj.key}: {item}"
        for doc in item.docs:
            yield doc["event"]["id"]


def _no_geoip_config() -> Any:
    from connector.config import load_config

    return load_config(None, {}, {"geoip": {"city_db": "none"}})
