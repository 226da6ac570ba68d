"""``connector.aws_lambda.handler`` with S3, SQS, CloudWatch Logs and Kinesis events whose content is
hostile: the handler returns, every batch item settles (the sink accepts everything), and every
record the event stands for ends written, skipped by a named rule or dead-lettered.

S3 is a stub holding the generated objects; documents go to a checking sink, dead letters through
the real store into a file. The counts come from the summary the handler reports.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from connector import aws_lambda
from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.pipeline import RecordProcessor
from connector.run_parts import RunParts
from tests.properties.settling import CheckingSink
from tests.properties.strategies import (
    CONFIG_NOTIFICATIONS,
    V2_LAYOUT,
    blank,
    config_documents,
    flow_line,
    flow_objects,
    pack_subscription,
    subscription_document,
    trail_records,
)
from tests.properties.stub_s3 import StubS3

BUCKET = "siem-logs"
FLOW_GROUP = "/aws/vpc/flowlogs/prod"
_SUMMARY = re.compile(r"read (\d+), written (\d+), skipped (\d+), dead-lettered (\d+)")
key_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)


@dataclass
class Event:
    """A Lambda event, the S3 objects it names, and the number of units it stands for."""

    event: dict[str, Any]
    objects: dict[str, bytes]
    units: int


@st.composite
def stored_object(draw: st.DrawFn, number: int) -> tuple[str, bytes | None, int]:
    """``(key, body or None when missing, units)`` of one object a notification names."""
    kind = draw(st.sampled_from(["vpcflowlogs", "CloudTrail", "Config", "missing"]))
    key = f"AWSLogs/123456789012/{kind}/us-east-1/2024/05/01/{number} {draw(key_text)}.gz"
    if kind == "missing":
        return key, None, 1  # NoSuchKey: dead-lettered, since no retry can read it
    if kind == "vpcflowlogs":
        generated = draw(flow_objects())
        return key, generated.data, generated.units or 1
    if kind == "CloudTrail":
        records = draw(st.lists(trail_records(), max_size=6))
        return key, gzip.compress(json.dumps({"Records": records}).encode("utf-8", "surrogatepass")), len(records) or 1
    doc, units = draw(config_documents())
    return key, json.dumps(doc).encode("utf-8", "surrogatepass"), units


def _s3_record(key: str) -> dict[str, Any]:
    return {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key), "size": 1}}}


@st.composite
def notified_objects(draw: st.DrawFn, first: int) -> tuple[list[dict[str, Any]], dict[str, bytes], int]:
    """S3 notification records of 1-3 objects, the stored bodies, and their units."""
    records, objects, units = [], {}, 0
    for number in range(first, first + draw(st.integers(1, 3))):
        key, body, count = draw(stored_object(number))
        records.append(_s3_record(key))
        if body is not None:
            objects[f"{BUCKET}/{key}"] = body
        units += count
    return records, objects, units


def _page_units(messages: list[str]) -> int:
    if any("\ud800" <= c <= "\udfff" for m in messages for c in m):
        return 1  # JSON with a lone surrogate is no payload: one dead letter
    return sum(1 for m in messages for line in m.rstrip("\r\n").split("\n") if not blank(line)) or 1


flow_messages = st.lists(st.one_of(flow_line(V2_LAYOUT), st.text(max_size=40)), max_size=6)


@st.composite
def sqs_message(draw: st.DrawFn, number: int) -> tuple[str, dict[str, bytes], int]:
    """One SQS body, the objects it names, and its units."""
    kind = draw(st.sampled_from(["objects", "objects", "sns", "eventbridge", "logs", "config", "junk", "test"]))
    if kind in ("objects", "sns"):
        records, objects, units = draw(notified_objects(number * 10))
        body = json.dumps({"Records": records})
        if kind == "sns":
            body = json.dumps({"Type": "Notification", "MessageId": f"n-{number}", "Message": body})
        return body, objects, units
    if kind == "eventbridge":
        key, stored, units = draw(stored_object(number * 10))
        body = json.dumps({"version": "0", "detail-type": "Object Created", "source": "aws.s3",
                           "detail": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}})
        return body, ({f"{BUCKET}/{key}": stored} if stored is not None else {}), units
    if kind == "logs":
        messages = draw(flow_messages)
        return pack_subscription(subscription_document(FLOW_GROUP, messages)), {}, _page_units(messages)
    if kind == "config":
        doc, units = draw(config_documents(CONFIG_NOTIFICATIONS))
        return json.dumps(doc), {}, units
    if kind == "test":
        return json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}), {}, 1
    return draw(st.text(max_size=60)), {}, 1


@st.composite
def sqs_events(draw: st.DrawFn) -> Event:
    records, objects, units = [], {}, 0
    for number in range(draw(st.integers(1, 5))):
        body, stored, count = draw(sqs_message(number))
        records.append({"messageId": f"m-{number}", "eventSource": "aws:sqs", "body": body,
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:siem"})
        objects.update(stored)
        units += count
    return Event({"Records": records}, objects, units)


@st.composite
def s3_events(draw: st.DrawFn) -> Event:
    records, objects, units = draw(notified_objects(0))
    return Event({"Records": records}, objects, units)


@st.composite
def logs_events(draw: st.DrawFn) -> Event:
    if draw(st.integers(0, 4)) == 0:
        return Event({"awslogs": {"data": draw(st.text(max_size=60))}}, {}, 1)
    messages = draw(flow_messages)
    kind = draw(st.sampled_from(["DATA_MESSAGE", "DATA_MESSAGE", "CONTROL_MESSAGE"]))
    units = _page_units(messages) if kind == "DATA_MESSAGE" else 1
    return Event({"awslogs": {"data": pack_subscription(subscription_document(FLOW_GROUP, messages, kind))}}, {},
                 units)


@st.composite
def kinesis_events(draw: st.DrawFn) -> Event:
    records, units = [], 0
    for number in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["page", "page", "bytes", "not-base64"]))
        if kind == "page":
            messages = draw(flow_messages)
            data = pack_subscription(subscription_document(FLOW_GROUP, messages))
            units += _page_units(messages)
        elif kind == "bytes":
            data = base64.b64encode(draw(st.binary(max_size=60))).decode()
            units += 1
        else:
            data = draw(st.text(min_size=1, max_size=20).filter(lambda t: not _is_base64(t)))
            units += 1
        records.append({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": f"4959{number:04d}",
                                                                  "data": data},
                        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/logs"})
    return Event({"Records": records}, {}, units)


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        return False
    return True


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def lambda_runtime(processor: RecordProcessor, objects: dict[str, bytes]) -> Iterator[tuple[CheckingSink, str]]:
    """The function's runtime for one event: the shared processor, a checking sink, a dead-letter
    file, S3 holding ``objects``."""
    sink = CheckingSink()
    handle, path = tempfile.mkstemp(prefix="lambda-dead-letters-", suffix=".ndjson")
    os.close(handle)
    dlq = DeadLetterStore(path)
    aws_lambda._RUNTIME = aws_lambda._Runtime(AppConfig(), RunParts(processor, sink, dlq, batch_docs=64),
                                              StubS3(objects))
    try:
        yield sink, path
    finally:
        aws_lambda._RUNTIME = None  # the shared processor stays open for the next example
        dlq.close()
        os.unlink(path)


def _invoke(processor: RecordProcessor, case: Event) -> None:
    lines = _Lines()
    log = logging.getLogger("connector.aws_lambda")
    log.addHandler(lines)
    level = log.level
    log.setLevel(logging.INFO)
    try:
        with lambda_runtime(processor, case.objects) as (sink, dlq_path):
            answer = aws_lambda.handler(case.event, None)
            with open(dlq_path, "rb") as stored:
                letters = [orjson.loads(line) for line in stored]
    finally:
        log.removeHandler(lines)
        log.setLevel(level)
    assert answer.get("batchItemFailures", []) == [], (answer, lines.messages)
    summary = next(m for m in (answer.get("summary", ""), *lines.messages) if _SUMMARY.search(m))
    read, written, skipped, dead = (int(n) for n in _SUMMARY.search(summary).groups())  # type: ignore[union-attr]
    assert written == len(sink.ids)
    assert dead == len(letters) and all(letter["reason"] for letter in letters)
    assert read == written + skipped + dead == case.units, (summary, case.units)


@given(st.one_of(sqs_events(), s3_events(), logs_events(), kinesis_events()))
@example(Event({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": "\ud800\x00" * 3}]}, {}, 1))
@example(Event({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": "x" * (10 * 1024 * 1024)}]}, {},
               1))
@example(Event({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs",
                             "body": '{"a":' * 10_000 + "1" + "}" * 10_000}]}, {}, 1))
@example(Event({"awslogs": {"data": base64.b64encode(gzip.compress(b"\x00" * (70 * 1024 * 1024))).decode()}}, {},
               1))
def test_every_event_settles_every_record(processor: RecordProcessor, case: Event) -> None:
    _invoke(processor, case)
