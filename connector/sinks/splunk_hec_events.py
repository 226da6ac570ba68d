"""What one HEC event looks like: its time, sourcetype, index and indexed fields, rendered as bytes.

Per-record code: metadata prefixes and epoch times are cached, and each document's own bytes are
copied once, into the request body.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import orjson

from connector.sinks.base import Batch, DeadLetter
from connector.sinks.splunk_hec_config import HecSinkConfig

ECS_SOURCETYPES: Mapping[str, str] = {
    "aws.vpcflow": "aws:connector:vpcflow",
    "aws.cloudtrail": "aws:connector:cloudtrail",
    "aws.config": "aws:connector:config",
}
TA_SOURCETYPES: Mapping[str, str] = {
    "aws.vpcflow": "aws:cloudwatchlogs:vpcflow",
    "aws.cloudtrail": "aws:cloudtrail",
    "aws.config": "aws:config",
}
TA_CONFIG_NOTIFICATION = "aws:config:notification"

# GeoIP results copied into indexed fields in splunk_ta_aws mode: the add-on's own extractions
# know nothing about geo, and indexed fields make them usable in tstats.
GEO_FIELDS: tuple[str, ...] = tuple(
    f"{side}.{leaf}"
    for side in ("source", "destination")
    for leaf in (
        "geo.country_iso_code",
        "geo.country_name",
        "geo.region_name",
        "geo.city_name",
        "geo.continent_name",
        "geo.location.lat",
        "geo.location.lon",
        "as.number",
        "as.organization.name",
    )
)

# An event line in three parts: '{"time":T,...,"event":', the document's own bytes, and '}' with
# the newline. The request body is joined from the parts once, so a ~1 KB document is copied
# once instead of into a line of its own first.
EventLine = tuple[bytes, bytes, bytes]
_END = b"}\n"


@dataclass(slots=True)
class EventChunk:
    """One HEC request: batch positions and their rendered events."""

    positions: list[int]
    lines: list[EventLine]
    size: int = 0

    def body(self) -> bytes:
        """Newline-terminated event lines, as HEC's /services/collector/event reads them."""
        return b"".join(chain.from_iterable(self.lines))


class HecEventRenderer:
    """Turns a batch into HEC event lines for one configuration, and cuts them into requests."""

    def __init__(self, config: HecSinkConfig) -> None:
        self.config = config
        self._sourcetypes = ECS_SOURCETYPES if config.mode == "ecs" else TA_SOURCETYPES
        self._prefixes: dict[tuple[str, str, str], bytes] = {}
        self._times: dict[str, bytes] = {}
        self._seconds: dict[str, int] = {}
        self._field_paths = tuple(
            (name, tuple(name.split("."))) for name in dict.fromkeys(self._indexed_field_names())
        )

    def chunks(self, batch: Batch, dead: list[DeadLetter]) -> Iterator[EventChunk]:
        """Render events and cut them into requests by event count and uncompressed bytes."""
        max_events = self.config.batch_events
        max_bytes = self.config.batch_bytes
        positions: list[int] = []
        lines: list[EventLine] = []
        size = 0
        render = self._render_event
        for i, line in enumerate(render(batch, dead)):
            if line is None:
                continue
            n = len(line[0]) + len(line[1]) + len(line[2])
            if lines and (len(lines) >= max_events or size + n > max_bytes):
                yield EventChunk(positions, lines, size)
                positions, lines, size = [], [], 0
            positions.append(i)
            lines.append(line)
            size += n
        if lines:
            yield EventChunk(positions, lines, size)

    def _render_event(self, batch: Batch, dead: list[DeadLetter]) -> Iterator[EventLine | None]:
        """Yield one HEC event per record (None for a record that was dead-lettered)."""
        dumps = orjson.dumps
        prefixes = self._prefixes
        epoch = self._epoch
        ta_mode = self.config.mode == "splunk_ta_aws"
        field_paths = self._field_paths
        datasets, origins, originals = batch.datasets, batch.origins, batch.originals
        docs, encoded, timestamps = batch.docs, batch.encoded, batch.timestamps
        for i, encoded_doc in enumerate(encoded):
            dataset = datasets[i]
            origin = origins[i]
            sourcetype = self._sourcetypes.get(dataset)
            if sourcetype is None:
                dead.append(DeadLetter(docs[i], f"unknown dataset {dataset!r} for Splunk HEC", origin,
                                       f"batch position {i}"))
                yield None
                continue
            if ta_mode and dataset == "aws.config" and _is_config_notification(docs[i], origin):
                sourcetype = TA_CONFIG_NOTIFICATION
            key = (dataset, origin, sourcetype)
            prefix = prefixes.get(key)
            if prefix is None:
                prefix = self._prefix(dataset, origin, sourcetype)
            try:
                if ta_mode:
                    original = originals[i]
                    if original is None:
                        dead.append(DeadLetter(docs[i], "splunk_ta_aws mode needs the original AWS record, "
                                               "but none was kept", origin, f"batch position {i}"))
                        yield None
                        continue
                    body = dumps(original)
                else:
                    body = encoded_doc
                ts = timestamps[i]
                t = epoch(ts) if ts else b""
                head = b'{"time":' + t + prefix if t else b"{" + prefix[1:]
                if field_paths:
                    fields = _pick_fields(docs[i], field_paths)
                    if fields:
                        yield head, body, b',"fields":' + dumps(fields) + _END
                        continue
                yield head, body, _END
            except (TypeError, orjson.JSONEncodeError) as exc:
                reason = f"cannot serialize to JSON: {exc}"
                dead.append(DeadLetter(docs[i], reason, origin, f"batch position {i}"))
                yield None

    def _prefix(self, dataset: str, origin: str, sourcetype: str) -> bytes:
        meta: dict[str, str] = {"host": self.config.host, "source": origin, "sourcetype": sourcetype}
        index = self.config.indexes.get(dataset) or self.config.default_index
        if index:
            meta["index"] = index
        # ',"host":...,"event":' so an event line is '{"time":T' + prefix + doc + '}'.
        prefix = b"," + orjson.dumps(meta)[1:-1] + b',"event":'
        if len(self._prefixes) > 4096:
            self._prefixes.clear()
        self._prefixes[(dataset, origin, sourcetype)] = prefix
        return prefix

    def _epoch(self, ts: str) -> bytes:
        """``@timestamp`` to HEC ``time`` (epoch seconds with milliseconds), cached per string."""
        cached = self._times.get(ts)
        if cached is not None:
            return cached
        text = _epoch_text(ts, self._seconds)
        if len(self._times) > 65536:
            self._times.clear()
            self._seconds.clear()
        self._times[ts] = text
        return text

    def _indexed_field_names(self) -> tuple[str, ...]:
        names = tuple(self.config.indexed_fields)
        if self.config.mode == "splunk_ta_aws":
            names = GEO_FIELDS + names
        return names


def _epoch_text(ts: str, seconds_cache: dict[str, int]) -> bytes:
    """Parse an ISO 8601 UTC string; the common ``YYYY-MM-DDTHH:MM:SS[.fff]Z`` shape is sliced."""
    if len(ts) >= 20 and ts[-1] == "Z" and ts[10] == "T" and (len(ts) == 20 or ts[19] == "."):
        head = ts[:19]
        base = seconds_cache.get(head)
        if base is None:
            try:
                base = calendar.timegm(
                    (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]),
                     int(ts[17:19]), 0, 0, 0)
                )
            except ValueError:
                return b""
            seconds_cache[head] = base
        frac = ts[20:-1]
        if frac and not frac.isdigit():
            return b""
        millis = int((frac + "000")[:3]) if frac else 0
        return b"%d.%03d" % (base, millis)
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return b""
    if parsed.tzinfo is None:
        return b""
    return b"%.3f" % parsed.timestamp()


def _is_config_notification(doc: Mapping[str, Any], origin: str) -> bool:
    """Config notifications (SQS/SNS messages) versus Config items (history/snapshot files in S3).

    The document decides when it can: a Config ``messageType`` (``aws.config.message_type``) or an
    ``event.action`` ending in ``Notification``. Otherwise the origin does: records that came
    through SQS or SNS are notifications, records read from files are items.
    """
    aws = doc.get("aws")
    if isinstance(aws, dict):
        config = aws.get("config")
        if isinstance(config, dict) and config.get("message_type"):
            return True
    if doc.get("aws.config.message_type"):
        return True
    event = doc.get("event")
    action = event.get("action") if isinstance(event, dict) else doc.get("event.action")
    if isinstance(action, str) and action.endswith("Notification"):
        return True
    return origin.startswith(("sqs://", "sns://"))


def _pick_fields(doc: Mapping[str, Any], paths: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Any]:
    """Flat values for HEC indexed fields; nested objects and missing keys are skipped."""
    fields: dict[str, Any] = {}
    for name, parts in paths:
        value: Any = doc.get(name)
        if value is None:
            value = doc
            for part in parts:
                if not isinstance(value, dict):
                    value = None
                    break
                value = value.get(part)
        if value is None or isinstance(value, dict):
            continue
        if isinstance(value, list):
            value = [v if isinstance(v, str) else orjson.dumps(v).decode() for v in value
                     if not isinstance(v, dict | list)]
            if not value:
                continue
        fields[name] = value
    return fields


__all__ = [
    "ECS_SOURCETYPES",
    "GEO_FIELDS",
    "TA_CONFIG_NOTIFICATION",
    "TA_SOURCETYPES",
    "EventChunk",
    "EventLine",
    "HecEventRenderer",
]
