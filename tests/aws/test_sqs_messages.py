"""Every SQS body shape AWS sends, classified without a server: objects to read, skips by rule,
inline payloads, and unreadable bodies."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from connector.sources.sqs import (
    CONTROL_RULE,
    TEST_EVENT_RULE,
    InlinePayload,
    ReadObjects,
    S3Object,
    SkipMessage,
    Unreadable,
    parse_message,
)


def _s3_event(*keys: str, event: str = "ObjectCreated:Put", bucket: str = "logs") -> dict[str, Any]:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": event,
                         "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                                "object": {"key": key, "size": 42, "eTag": "abc"}}} for key in keys]}


def _sns(message: dict[str, Any]) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                       "Message": json.dumps(message), "Timestamp": "2026-11-27T00:00:00Z"})


def _logs(kind: str = "DATA_MESSAGE", group: str = "/aws/vpc/flowlogs") -> str:
    page = {"messageType": kind, "owner": "111122223333", "logGroup": group, "logStream": "eni-1-all",
            "subscriptionFilters": ["f"],
            "logEvents": [{"id": "100", "timestamp": 1, "message": "line one"},
                          {"id": "101", "timestamp": 2, "message": "line two"}]}
    return base64.b64encode(gzip.compress(json.dumps(page).encode())).decode()


def test_direct_notification_names_each_object_with_decoded_keys() -> None:
    plan = parse_message(json.dumps(_s3_event("AWSLogs/1/Config/a%3Ab/my+file%2B1.json.gz", "k2")))
    assert plan == ReadObjects((S3Object("logs", "AWSLogs/1/Config/a:b/my file+1.json.gz", 42, "abc"),
                                S3Object("logs", "k2", 42, "abc")))


def test_sns_wrapped_notification_is_unwrapped() -> None:
    plan = parse_message(_sns(_s3_event("a/b.log.gz")))
    assert plan == ReadObjects((S3Object("logs", "a/b.log.gz", 42, "abc"),))


def test_eventbridge_object_created() -> None:
    body = {"version": "0", "detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "logs"}, "object": {"key": "x/y+z.gz", "size": 7, "etag": "e"}}}
    assert parse_message(json.dumps(body)) == ReadObjects((S3Object("logs", "x/y z.gz", 7, "e"),))
    deleted = {**body, "detail-type": "Object Deleted"}
    assert isinstance(parse_message(json.dumps(deleted)), SkipMessage)


def test_backfill_enqueue_shape_without_event_name_is_read() -> None:
    body = {"Records": [{"s3": {"bucket": {"name": "logs"}, "object": {"key": "k"}}}]}
    assert parse_message(json.dumps(body)) == ReadObjects((S3Object("logs", "k"),))


@pytest.mark.parametrize("body", [
    json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "logs"}),
    _sns({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "logs"}),
])
def test_s3_test_event_is_skipped(body: str) -> None:
    assert parse_message(body) == SkipMessage(TEST_EVENT_RULE)


def test_removal_events_are_skipped_by_rule() -> None:
    plan = parse_message(json.dumps(_s3_event("k", event="ObjectRemoved:Delete")))
    assert isinstance(plan, SkipMessage) and "ObjectRemoved:Delete" in plan.rule


def test_config_notifications_inline_and_delivery_notices_skipped() -> None:
    change = {"messageType": "ConfigurationItemChangeNotification",
              "configurationItem": {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1"}}
    plan = parse_message(_sns(change), "msg-1")
    assert isinstance(plan, InlinePayload) and plan.type_hint == "config"
    assert json.loads(plan.data) == change
    assert plan.unit().open().read() == plan.data
    notice = parse_message(_sns({"messageType": "ConfigurationHistoryDeliveryCompleted"}))
    assert isinstance(notice, SkipMessage) and "ConfigurationHistoryDeliveryCompleted" in notice.rule
    bridged = {"detail-type": "Config Configuration Item Change", "source": "aws.config", "detail": change}
    assert isinstance(parse_message(json.dumps(bridged)), InlinePayload)


def test_cloudwatch_logs_page_becomes_a_unit_of_lines() -> None:
    plan = parse_message(_logs(), "m", {"/aws/vpc/flowlogs": "${srcaddr} ${dstaddr}"})
    assert isinstance(plan, InlinePayload)
    assert plan.data == b"line one\nline two"
    assert plan.origin == "logs:///aws/vpc/flowlogs/eni-1-all"
    assert plan.type_hint == "vpcflow" and plan.vpcflow_format == "${srcaddr} ${dstaddr}"
    assert plan.key.endswith("/100")
    trail = parse_message(_logs(group="aws-cloudtrail-logs-1"))
    assert isinstance(trail, InlinePayload) and trail.type_hint == "cloudtrail"
    assert parse_message(_logs("CONTROL_MESSAGE")) == SkipMessage(CONTROL_RULE)
    lambda_shape = json.dumps({"awslogs": {"data": _logs()}})
    assert isinstance(parse_message(lambda_shape), InlinePayload)


@pytest.mark.parametrize(("body", "reason"), [
    ("", "empty message body"),
    ("hello world", "neither JSON nor a base64"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON list"),
    (json.dumps({"foo": 1}), "unrecognized message shape (keys: foo)"),
    (json.dumps({"Records": [{"eventName": "x"}]}), "no s3 entry"),
    (json.dumps({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {}}}]}), "lacks bucket.name or object.key"),
    (json.dumps({"Type": "Notification", "Message": "not json"}), "neither JSON nor a base64"),
    (base64.b64encode(b"\x1f\x8b\x08\x00garbage").decode(), "gzip"),
])
def test_unreadable_bodies_say_why_and_that_the_message_is_deleted(body: str, reason: str) -> None:
    plan = parse_message(body)
    assert isinstance(plan, Unreadable), plan
    assert reason in plan.reason
    assert plan.reason.endswith("the message is deleted, since no retry can read it")
