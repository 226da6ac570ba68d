"""SQS message bodies -> what to do with them: S3 objects to read, a skip by rule, an inline
payload (AWS Config notification, CloudWatch Logs subscription page), or a dead letter.

Every shape AWS puts on a queue is recognized here, and only here: S3 event notifications
(direct, SNS-wrapped, EventBridge ``Object Created``), ``s3:TestEvent``, AWS Config
notifications, and CloudWatch Logs subscription payloads (base64 + gzip). ``backfill --enqueue``
writes the S3 notification shape, so it needs no second path.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

import orjson

from connector.formats.base import inflate_bounded
from connector.formats.detect import CLOUDTRAIL, VPCFLOW
from connector.normalize.specs import load_spec
from connector.sources.base import WorkUnit

TEST_EVENT_RULE = "S3 test event (sent when a bucket notification is configured)"
CONTROL_RULE = "CloudWatch Logs CONTROL_MESSAGE (subscription health check)"
SUBSCRIPTION_RULE = "SNS subscription confirmation"
NOT_CREATED_RULE = "S3 event that creates no object"
EVENTBRIDGE_OTHER_RULE = "EventBridge S3 event other than Object Created"
CONFIG_NOTICE_RULE = "AWS Config {} notice (announces a delivery, carries no change)"
UNREADABLE_SUFFIX = "; the message is deleted, since no retry can read it"
# SQS bodies are at most 1 MiB; a CloudWatch Logs page at most 1 MiB uncompressed per event batch.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
CONFIG_MESSAGE_TYPES = frozenset({"ConfigurationItemChangeNotification",
                                  "OversizedConfigurationItemChangeNotification", "ComplianceChangeNotification"})


class S3Object(NamedTuple):
    """One object named by a notification; the key is already URL-decoded."""

    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class ReadObjects:
    """Read these S3 objects; the message is done when all are settled."""

    objects: tuple[S3Object, ...]


@dataclass(frozen=True, slots=True)
class SkipMessage:
    """Nothing to read, by a named rule; the message is deleted."""

    rule: str


@dataclass(frozen=True, slots=True)
class InlinePayload:
    """The records travel in the message itself; ``unit()`` makes a work unit of them."""

    data: bytes
    origin: str
    key: str
    type_hint: str | None
    vpcflow_format: str | None = None

    def unit(self) -> WorkUnit:
        """A work unit whose bytes are the payload (picklable data in, unit out in the worker)."""
        import io

        data = self.data
        return WorkUnit(origin=self.origin, key=self.key, open=lambda: io.BytesIO(data), size=len(data),
                        type_hint=self.type_hint, vpcflow_format=self.vpcflow_format)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A body no retry can read: dead-lettered with the reason, then deleted."""

    reason: str


MessagePlan = ReadObjects | SkipMessage | InlinePayload | Unreadable


class _Bad(ValueError):
    """A body of a known shape with a broken part."""


_config_notices: frozenset[str] | None = None


def _config_notice_types() -> frozenset[str]:
    global _config_notices
    if _config_notices is None:
        _config_notices = frozenset(load_spec("config")["skipped_message_types"])
    return _config_notices


def parse_message(body: str | bytes, message_id: str = "",
                  log_group_formats: Mapping[str, str] | None = None) -> MessagePlan:
    """Classify one SQS message body. Never raises: an unknown body is ``Unreadable``."""
    try:
        return _classify(body, message_id, log_group_formats or {})
    except _Bad as exc:
        return Unreadable(str(exc) + UNREADABLE_SUFFIX)


def _classify(body: str | bytes, message_id: str, formats: Mapping[str, str]) -> MessagePlan:
    # A lone surrogate (JSON can carry one escaped) stays as bytes that are not UTF-8: unreadable, not a crash.
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    text = raw.strip()
    if not text:
        raise _Bad("empty message body")
    if text[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise _Bad(f"body is not valid JSON: {exc}") from None
    else:
        doc = _inflate_logs_payload(text)
    return _classify_doc(doc, message_id, formats, raw)


def _inflate_logs_payload(text: bytes) -> Any:
    # CloudWatch Logs subscription data arrives base64-encoded gzip (Kinesis, Firehose, Lambda).
    try:
        packed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Bad("body is neither JSON nor a base64 CloudWatch Logs payload") from None
    if packed[:2] == b"\x1f\x8b":
        try:
            packed = inflate_bounded(packed, MAX_INFLATED_BYTES)
        except ValueError as exc:
            raise _Bad(f"base64 payload: {exc}") from None
    try:
        return orjson.loads(packed)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"base64 payload is not JSON: {exc}") from None


def _classify_doc(doc: Any, message_id: str, formats: Mapping[str, str], body: bytes) -> MessagePlan:
    if not isinstance(doc, dict):
        raise _Bad(f"body is a JSON {type(doc).__name__}, not an object")
    kind = doc.get("Type")
    if kind == "Notification" and "Message" in doc:
        inner = doc["Message"]
        if not isinstance(inner, str):
            raise _Bad("SNS notification whose Message is not a string")
        stripped = inner.strip()
        try:
            inner_doc = orjson.loads(stripped) if stripped[:1] in ("{", "[") else _inflate_logs_payload(
                stripped.encode())
        except orjson.JSONDecodeError as exc:
            raise _Bad(f"SNS Message is not JSON: {exc}") from None
        return _classify_doc(inner_doc, message_id, formats, stripped.encode())
    if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return SkipMessage(SUBSCRIPTION_RULE)
    if doc.get("Event") == "s3:TestEvent":
        return SkipMessage(TEST_EVENT_RULE)
    if "Records" in doc:
        return _s3_records(doc["Records"])
    if "detail-type" in doc:
        return _eventbridge(doc, message_id, body)
    if "awslogs" in doc and isinstance(doc["awslogs"], dict) and isinstance(doc["awslogs"].get("data"), str):
        return _classify_doc(_inflate_logs_payload(doc["awslogs"]["data"].encode()), message_id, formats, body)
    message_type = doc.get("messageType")
    if message_type in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        return _logs_page(doc, formats)
    if message_type in _config_notice_types():
        return SkipMessage(CONFIG_NOTICE_RULE.format(message_type))
    if message_type in CONFIG_MESSAGE_TYPES or "configurationItem" in doc:
        return _config_inline(doc, message_id)
    keys = ", ".join(sorted(str(k) for k in doc)[:6])
    raise _Bad(f"unrecognized message shape (keys: {keys or 'none'})")


def _s3_records(records: Any) -> MessagePlan:
    if not isinstance(records, list) or not records:
        raise _Bad("Records is not a non-empty list")
    objects: list[S3Object] = []
    other_events: set[str] = set()
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("s3"), dict):
            raise _Bad(f"Records[{index}] has no s3 entry (not an S3 event notification)")
        event = str(record.get("eventName", "ObjectCreated:"))
        # backfill --enqueue may leave eventName out; S3 itself always sends it.
        if not event.startswith(("ObjectCreated:", "s3:ObjectCreated:")):
            other_events.add(event)
            continue
        s3 = record["s3"]
        bucket = (s3.get("bucket") or {}).get("name") if isinstance(s3.get("bucket"), dict) else None
        obj = s3.get("object") if isinstance(s3.get("object"), dict) else None
        if not bucket or not obj or not isinstance(obj.get("key"), str) or not obj["key"]:
            raise _Bad(f"Records[{index}].s3 lacks bucket.name or object.key")
        objects.append(S3Object(str(bucket), unquote_plus(obj["key"]), _int_or_none(obj.get("size")),
                                obj.get("eTag") or obj.get("etag")))
    if not objects:
        return SkipMessage(f"{NOT_CREATED_RULE} ({', '.join(sorted(other_events))})")
    return ReadObjects(tuple(objects))


def _eventbridge(doc: dict[str, Any], message_id: str, body: bytes) -> MessagePlan:
    detail_type = str(doc.get("detail-type"))
    detail = doc.get("detail")
    if not isinstance(detail, dict):
        raise _Bad(f"EventBridge event {detail_type!r} without a detail object")
    if detail_type.startswith("Config "):
        return _config_inline(doc, message_id)
    if doc.get("source") != "aws.s3":
        raise _Bad(f"EventBridge event {detail_type!r} from {doc.get('source')!r} is not handled")
    if detail_type != "Object Created":
        return SkipMessage(f"{EVENTBRIDGE_OTHER_RULE} ({detail_type})")
    bucket: dict[str, Any] = detail["bucket"] if isinstance(detail.get("bucket"), dict) else {}
    obj: dict[str, Any] = detail["object"] if isinstance(detail.get("object"), dict) else {}
    name, key = bucket.get("name"), obj.get("key")
    if not name or not isinstance(key, str) or not key:
        raise _Bad("EventBridge Object Created event lacks detail.bucket.name or detail.object.key")
    return ReadObjects((S3Object(str(name), unquote_plus(key), _int_or_none(obj.get("size")), obj.get("etag")),))


def _config_inline(doc: dict[str, Any], message_id: str) -> MessagePlan:
    # ConfigReader unwraps envelopes itself; handing it the document keeps one reading of Config.
    return InlinePayload(orjson.dumps(doc), f"sqs://{message_id or 'message'}", f"sqs/{message_id}", "config")


def _logs_page(doc: dict[str, Any], formats: Mapping[str, str]) -> MessagePlan:
    if doc.get("messageType") == "CONTROL_MESSAGE":
        return SkipMessage(CONTROL_RULE)
    group, stream, events = doc.get("logGroup"), doc.get("logStream"), doc.get("logEvents")
    if not isinstance(group, str) or not isinstance(stream, str) or not isinstance(events, list):
        raise _Bad("CloudWatch Logs DATA_MESSAGE lacks logGroup, logStream or logEvents")
    messages: list[str] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("message"), str):
            raise _Bad(f"CloudWatch Logs logEvents[{index}] has no message")
        messages.append(event["message"].rstrip("\n"))
    first_id = str(events[0].get("id", "")) if events else ""
    lowered = group.lower()
    hint = VPCFLOW if "flow" in lowered else CLOUDTRAIL if "cloudtrail" in lowered else None
    # The page's first event id makes line-based record ids unique per page of a stream.
    return InlinePayload("\n".join(messages).encode(), f"logs://{group}/{stream}", f"{group}/{stream}/{first_id}",
                         hint, formats.get(group))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
