"""CloudWatch Logs events as work units: subscription payloads (Lambda ``awslogs.data``, Kinesis
records, SQS bodies) and ``FilterLogEvents`` pages alike.

Flow records get their ``event.id`` from the CloudWatch event id, not from a line number, so an
event keeps its id however it is batched and redelivered, and whether it was polled or pushed.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from connector.formats.base import GZIP_MAGIC, Skipped, inflate_bounded
from connector.formats.detect import CLOUDTRAIL, VPCFLOW
from connector.normalize.vpcflow import record_id_prefix
from connector.sources.base import WorkUnit

CONTROL_RULE = "CloudWatch Logs CONTROL_MESSAGE (subscription reachability check, no events)"
EMPTY_RULE = "CloudWatch Logs payload without events"
# Subscription payloads are at most ~1 MB of events; anything far larger is not one.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


class SubscriptionPayloadError(ValueError):
    """The data is not a CloudWatch Logs subscription payload; the message says why."""


def type_of_group(group: str, log_group_formats: Mapping[str, str] | None = None) -> str | None:
    """The data type a log group's name (or a configured flow format) implies, else ``None``."""
    if log_group_formats and group in log_group_formats:
        return VPCFLOW
    name = group.lower()
    if "cloudtrail" in name:
        return CLOUDTRAIL
    if "vpcflow" in name or "flow" in name:
        return VPCFLOW
    return None


def events_payload(group: str, stream: str, events: Iterable[tuple[str, str]]) -> tuple[bytes, tuple[str, ...]]:
    """The bytes (messages as lines) and per-line record ids of ``(event id, message)`` pairs of one
    stream; plain data, so a reader that ships work to other processes can carry it."""
    prefix = record_id_prefix(f"{group}/{stream}")
    lines: list[str] = []
    ids: list[str] = []
    for event_id, message in events:
        parts = message.rstrip("\r\n").split("\n")
        lines.extend(parts)
        ids.append(prefix + event_id)
        # A multi-line message (rare) keeps one id per line, still derived from its event id.
        ids.extend(f"{prefix}{event_id}.{n}" for n in range(2, len(parts) + 1))
    # A lone surrogate (possible in an event handed over as a mapping) becomes bytes the reader replaces.
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" if lines else b""
    return data, tuple(ids)


def events_unit(group: str, stream: str, events: Iterable[tuple[str, str]],
                log_group_formats: Mapping[str, str] | None = None) -> WorkUnit:
    """One unit from ``(event id, message)`` pairs of one log stream; messages become lines."""
    key = f"{group}/{stream}"
    data, ids = events_payload(group, stream, events)
    return WorkUnit(
        origin=f"logs://{key}",
        key=key,
        open=lambda: io.BytesIO(data),
        size=len(data),
        type_hint=type_of_group(group, log_group_formats),
        vpcflow_format=(log_group_formats or {}).get(group),
        record_ids=ids,
    )


def decode_payload(data: str | bytes) -> dict[str, Any]:
    """The JSON document of a payload given as base64 text, gzip bytes or plain JSON."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    if not raw.startswith(GZIP_MAGIC) and not raw.lstrip().startswith(b"{"):
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SubscriptionPayloadError(f"not base64: {exc}") from None
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = inflate_bounded(raw, MAX_PAYLOAD_BYTES)
        except ValueError as exc:
            raise SubscriptionPayloadError(str(exc)) from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SubscriptionPayloadError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SubscriptionPayloadError(f"expected a JSON object, found {type(doc).__name__}")
    return doc


def subscription_unit(data: str | bytes | Mapping[str, Any],
                      log_group_formats: Mapping[str, str] | None = None) -> WorkUnit | Skipped:
    """A subscription payload -> the unit of its events, or a skip for control messages.

    Raises ``SubscriptionPayloadError`` for anything that is not such a payload, so the caller can
    dead-letter it with the reason.
    """
    doc = dict(data) if isinstance(data, Mapping) else decode_payload(data)
    kind = doc.get("messageType")
    group, stream = doc.get("logGroup"), doc.get("logStream")
    origin = f"logs://{group}/{stream}" if group else "logs://"
    if kind == "CONTROL_MESSAGE":
        return Skipped(CONTROL_RULE, 1, origin)
    if kind != "DATA_MESSAGE":
        raise SubscriptionPayloadError(f"messageType {kind!r} is neither DATA_MESSAGE nor CONTROL_MESSAGE")
    events = doc.get("logEvents")
    if not isinstance(group, str) or not isinstance(stream, str) or not isinstance(events, list):
        raise SubscriptionPayloadError("DATA_MESSAGE without logGroup, logStream and a logEvents list")
    if not events:
        return Skipped(EMPTY_RULE, 1, origin)
    pairs: list[tuple[str, str]] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("message"), str) or "id" not in event:
            raise SubscriptionPayloadError(f"logEvents[{index}] has no id and message")
        pairs.append((str(event["id"]), event["message"]))
    return events_unit(group, stream, pairs, log_group_formats)


def is_subscription_payload(doc: Mapping[str, Any]) -> bool:
    """True for a decoded document that is a CloudWatch Logs subscription payload."""
    return doc.get("messageType") in ("DATA_MESSAGE", "CONTROL_MESSAGE") and "logGroup" in doc
