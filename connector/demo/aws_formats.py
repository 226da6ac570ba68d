"""How AWS writes times, JSON and gzip in the objects it delivers, shared by the three datasets."""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import io
import json
from typing import Any


def since_midnight(hhmmss: str) -> int:
    """Seconds from midnight to a wall-clock time given as `HH:MM` or `HH:MM:SS`."""
    parts = [int(p) for p in hhmmss.split(":")] + [0]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def iso_seconds(t: int) -> str:
    """Epoch seconds as CloudTrail's `eventTime`: `2026-11-27T14:03:02Z`."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ms: int) -> str:
    """Epoch milliseconds as Config and SNS write times: `2026-11-27T14:03:02.412Z`."""
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def iso_basic(t: int) -> str:
    """Epoch seconds in the basic ISO form Config puts in file names: `20261127T140302Z`."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def epoch_seconds(iso: str) -> int:
    """The epoch seconds of an `iso_seconds` time."""
    return calendar.timegm(dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").timetuple())


def iam_date(t: int) -> str:
    """Epoch seconds as IAM and STS write dates in their responses: `Nov 27, 2026, 3:10:12 PM`."""
    # IAM answers with a human date in its responseElements, not ISO 8601.
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return f"{d:%b} {d.day}, {d.year}, {d.hour % 12 or 12}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}"


def cli_command(service: str, name: str) -> str:
    """An API call as the AWS CLI names its command in the user agent: IAM's `CreateAccessKey` is
    `iam.create-access-key`."""
    return service + "." + "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def compact_json(obj: Any) -> bytes:
    """JSON without spaces, as CloudTrail and Config write their files."""
    return json.dumps(obj, separators=(",", ":")).encode()


def gzip_bytes(data: bytes) -> bytes:
    """`data` gzipped with a fixed header, so the same input always gives the same bytes."""
    buf = io.BytesIO()
    # mtime=0 and no file name in the header keep the bytes identical from run to run.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()
