"""Which objects a backfill loads: list the account, service and region folders of ``AWSLogs/``, then
only the day partitions in the requested range (never the whole bucket)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from connector.errors import SourceError
from connector.formats.detect import CLOUDTRAIL, CONFIG, TYPES, VPCFLOW

# Service folders under AWSLogs/<account>/ and the type each holds. Digest files prove integrity and
# carry no events, so their folder is not listed at all.
SERVICE_FOLDERS = {"CloudTrail": CLOUDTRAIL, "CloudTrail-Insight": CLOUDTRAIL, "vpcflowlogs": VPCFLOW,
                   "Config": CONFIG}
HIVE_SERVICES = {"vpcflowlogs": VPCFLOW}
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_HIVE_ACCOUNT = "aws-account-id="
LIST_THREADS = 8


@dataclass(frozen=True, slots=True)
class BackfillScope:
    """What to load: a bucket (and prefix before ``AWSLogs/``), an inclusive date range and filters."""

    bucket: str
    start: dt.date
    end: dt.date
    prefix: str = ""
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset(TYPES)

    def days(self) -> list[dt.date]:
        """Every day of the range, in order."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """One object to load, with the ETag it had when listed (the checkpoint key)."""

    key: str
    etag: str
    size: int
    kind: str
    account: str
    region: str


@dataclass
class BackfillPlan:
    """The objects of the requested days, found by listing only their date partitions."""

    scope: BackfillScope
    objects: list[PlannedObject] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    list_calls: int = 0

    @property
    def total_bytes(self) -> int:
        """Stored (usually gzip) size of every planned object."""
        return sum(o.size for o in self.objects)


class _Lister:
    """ListObjectsV2 with pagination, counting the calls (each is billed and takes a round trip)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self._lock = threading.Lock()
        self.calls = 0

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        while True:
            with self._lock:
                self.calls += 1
            try:
                page = self._client.list_objects_v2(**params)
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(f"cannot list s3://{self._bucket}/{prefix}: {exc}") from exc
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def folders(self, prefix: str) -> list[str]:
        """Names of the 'sub-folders' right under ``prefix`` (without the prefix or the slash)."""
        names: list[str] = []
        for page in self._pages(prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix):].rstrip("/"))
        return names

    def objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object under ``prefix``."""
        for page in self._pages(prefix, None):
            yield from page.get("Contents", [])


def _day_prefix(kind: str, day: dt.date, hive: bool) -> str:
    if hive:
        return f"year={day.year:04d}/month={day.month:02d}/day={day.day:02d}/"
    if kind == CONFIG:
        # AWS Config writes its date folders without zero padding (2026/1/5/).
        return f"{day.year}/{day.month}/{day.day}/"
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}/"


def plan_backfill(client: Any, scope: BackfillScope) -> BackfillPlan:
    """List the bucket's account, service and region folders, then only the day folders in range."""
    lister = _Lister(client, scope.bucket)
    plan = BackfillPlan(scope)
    base = (scope.prefix.strip("/") + "/" if scope.prefix.strip("/") else "") + "AWSLogs/"

    def wanted_account(account: str) -> bool:
        return not scope.accounts or account in scope.accounts

    def wanted_region(region: str) -> bool:
        return not scope.regions or region in scope.regions

    partitions: list[tuple[str, str, str, str]] = []  # (day folder, kind, account, region)

    def list_days(folder: str, kind: str, account: str, region: str, hive: bool) -> None:
        for day in scope.days():
            partitions.append((folder + _day_prefix(kind, day, hive), kind, account, region))

    def standard_account(folder: str, account: str) -> None:
        for service in lister.folders(folder):
            kind = SERVICE_FOLDERS.get(service)
            if kind is None or kind not in scope.types:
                continue
            for region in lister.folders(f"{folder}{service}/"):
                if wanted_region(region):
                    list_days(f"{folder}{service}/{region}/", kind, account, region, hive=False)

    def hive_account(folder: str, account: str) -> None:
        for service in lister.folders(folder):
            kind = HIVE_SERVICES.get(service.removeprefix("aws-service="))
            if not service.startswith("aws-service=") or kind is None or kind not in scope.types:
                continue
            for region_folder in lister.folders(f"{folder}{service}/"):
                region = region_folder.removeprefix("aws-region=")
                if region_folder.startswith("aws-region=") and wanted_region(region):
                    list_days(f"{folder}{service}/{region_folder}/", kind, account, region, hive=True)

    for entry in lister.folders(base):
        if _ORG_ID.match(entry):
            # Organization trails: AWSLogs/<org id>/<account>/CloudTrail/...
            for account in lister.folders(f"{base}{entry}/"):
                if wanted_account(account):
                    standard_account(f"{base}{entry}/{account}/", account)
        elif entry.startswith(_HIVE_ACCOUNT):
            account = entry[len(_HIVE_ACCOUNT):]
            if wanted_account(account):
                hive_account(f"{base}{entry}/", account)
        elif wanted_account(entry):
            standard_account(f"{base}{entry}/", entry)
    # Day folders are independent: list them concurrently (a month of a large org is thousands of calls).
    with ThreadPoolExecutor(max_workers=LIST_THREADS) as pool:
        listings = list(pool.map(lambda p: list(lister.objects(p[0])), partitions))
    for (folder, kind, account, region), items in zip(partitions, listings, strict=True):
        plan.partitions.append(folder)
        for item in items:
            key = item["Key"]
            if not key.endswith("/"):
                plan.objects.append(PlannedObject(key, str(item.get("ETag", "")).strip('"'), int(item.get("Size", 0)),
                                                  kind, account, region))
    plan.list_calls = lister.calls
    return plan
