"""AWS Lambda entry point: ``connector.aws_lambda.handler``.

Accepts S3 events, SQS events (bodies: S3 notifications, SNS-wrapped ones, EventBridge "Object
Created", CloudWatch Logs subscription payloads, AWS Config notifications), CloudWatch Logs
subscription events and Kinesis events. Configuration comes from the environment only
(``AWS_SIEM_CONNECTOR_<SECTION>__<KEY>``, ``AWS_SIEM_CONNECTOR_SINK__TYPE``, the sinks' own
variables). The processor and sink are built once per container and reused by every invocation.

SQS and Kinesis invocations report unsettled items in ``batchItemFailures`` (enable
``ReportBatchItemFailures`` on the event source mapping); records dead-lettered by rule count as
settled. Other invocations raise when anything is unsettled, so Lambda retries the event.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

from connector.config import AppConfig, load_config
from connector.errors import ConfigError, SinkError
from connector.formats.base import Skipped
from connector.logs import setup_logging
from connector.pipeline import Pipeline, RunSummary
from connector.run_parts import RunParts
from connector.secrets import with_configured_secrets
from connector.sinks.base import DeadLetter
from connector.sinks.factory import SINK_KINDS, build_sink
from connector.sources.base import WorkUnit
from connector.sources.cloudwatch_payload import SubscriptionPayloadError, subscription_unit

log = logging.getLogger(__name__)
Item = WorkUnit | Skipped | DeadLetter


@dataclass
class _Runtime:
    """What survives between invocations of one container."""

    config: AppConfig
    parts: RunParts
    s3: Any

    def close(self) -> None:
        self.parts.close()


_RUNTIME: _Runtime | None = None


def _build_runtime(env: Mapping[str, str]) -> _Runtime:
    from connector.sources.s3 import S3OversizedFetcher, aws_client, aws_session

    env = with_configured_secrets(env)
    config = load_config(None, env)
    kind = config.section("sink").get("type")
    if kind not in SINK_KINDS:
        raise ConfigError(f"AWS_SIEM_CONNECTOR_SINK__TYPE must be one of {', '.join(SINK_KINDS)}, got {kind!r}")
    aws = config.section("aws")
    s3 = aws_client(aws_session(aws), "s3", aws)
    # No probe at cold start: the first send reports a bad endpoint or token just as clearly.
    sink = build_sink(str(kind), config, env, check=False)
    return _Runtime(config, RunParts.open(config, sink, fetch_oversized=S3OversizedFetcher(s3)), s3)


def _runtime() -> _Runtime:
    global _RUNTIME
    if _RUNTIME is None:
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            setup_logging()
        _RUNTIME = _build_runtime(os.environ)
    return _RUNTIME


def reset() -> None:
    """Close and forget the cached processor and sink; the next event reads the environment again."""
    global _RUNTIME
    if _RUNTIME is not None:
        _RUNTIME.close()
    _RUNTIME = None


# -- event shapes ------------------------------------------------------------------------------

def _s3_record_items(rt: _Runtime, records: Iterable[Any], where: str) -> list[Item]:
    """An S3 event's records have the shape of an S3 notification body."""
    return _body_items(rt, orjson.dumps({"Records": list(records)}).decode(), where)


def _subscription_items(rt: _Runtime, data: str | bytes, where: str) -> list[Item]:
    try:
        return [subscription_unit(data, rt.config.normalize.log_group_formats)]
    except SubscriptionPayloadError as exc:
        record = data if isinstance(data, str) else base64.b64encode(data).decode()
        return [DeadLetter(record, f"not a CloudWatch Logs subscription payload: {exc}", where, "payload")]


def _body_items(rt: _Runtime, body: str, where: str, message_id: str = "") -> list[Item]:
    """What one SQS (or SNS) message body stands for, as the queue reader classifies it."""
    from connector.sources.s3 import s3_unit
    from connector.sources.sqs import InlinePayload, ReadObjects, SkipMessage, parse_message

    plan = parse_message(body, message_id, rt.config.normalize.log_group_formats)
    if isinstance(plan, ReadObjects):
        return [s3_unit(rt.s3, o.bucket, o.key, o.size, o.etag) for o in plan.objects]
    if isinstance(plan, SkipMessage):
        return [Skipped(plan.rule, 1, where)]
    if isinstance(plan, InlinePayload):
        return [plan.unit()]
    return [DeadLetter(body, plan.reason, where, "body")]


# -- settling ----------------------------------------------------------------------------------

@dataclass
class _Settler:
    """Feeds batch entries (SQS messages, Kinesis records) through a pipeline and learns which settled.

    Each entry is flushed on its own, so a failed send leaves only that entry unsettled; after a
    failure a fresh pipeline takes over, since the failed one's batch is gone.
    """

    rt: _Runtime
    summaries: list[RunSummary] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    _unsettled: dict[str, set[int]] = field(default_factory=dict)
    _owner: dict[int, str] = field(default_factory=dict)
    _pipeline: Pipeline | None = None
    sink_down: bool = False

    def _fresh(self) -> Pipeline:
        pipeline = self.rt.parts.pipeline(self._settled)
        self.summaries.append(pipeline.summary)
        self._pipeline = pipeline
        return pipeline

    def _settled(self, unit: WorkUnit) -> None:
        entry = self._owner.pop(id(unit), None)
        if entry is not None:
            self._unsettled.get(entry, set()).discard(id(unit))

    def add(self, entry: str, items: Callable[[], list[Item]]) -> bool:
        """Process one entry's items; False when the entry (or one before it) could not be settled."""
        pipeline = self._pipeline or self._fresh()
        try:
            produced = items()
            pending = {id(item) for item in produced if isinstance(item, WorkUnit)}
            self._unsettled[entry] = pending
            for item in produced:
                if isinstance(item, WorkUnit):
                    self._owner[id(item)] = entry
                    pipeline.process_unit(item)
                elif isinstance(item, Skipped):
                    pipeline.summary.skipped += item.count
                    pipeline.summary.skipped_by_rule[item.rule] += item.count
                else:
                    self.rt.parts.dlq.write([item])
                    pipeline.summary.dead_lettered += 1
            pipeline.flush()
        except Exception as exc:
            self._fail(entry, exc)
            return False
        return True

    def finish(self) -> None:
        """Flush what is batched; entries left unsettled are failures."""
        if self._pipeline is not None:
            try:
                self._pipeline.flush()
            except Exception as exc:
                self._fail(None, exc)
        for entry, pending in self._unsettled.items():
            if pending and entry not in self.failed:
                self.failed.append(entry)

    def _fail(self, entry: str | None, exc: Exception) -> None:
        log.error("could not settle %s: %s: %s", entry or "the batch", type(exc).__name__, exc)
        self.sink_down = self.sink_down or isinstance(exc, SinkError)
        for name, pending in self._unsettled.items():
            if (pending or name == entry) and name not in self.failed:
                self.failed.append(name)
        if entry is not None and entry not in self.failed:
            self.failed.append(entry)
        self._unsettled.clear()
        self._owner.clear()
        if self._pipeline is not None:
            # Its batch in flight (if any) finishes before a fresh pipeline sends; none of it is acknowledged.
            self._pipeline.close()
        self._pipeline = None

    def summary_line(self) -> str:
        total = RunSummary()
        for s in self.summaries:
            total.objects += s.objects
            total.written += s.written
            total.skipped += s.skipped
            total.dead_lettered += s.dead_lettered
            total.skipped_by_rule.update(s.skipped_by_rule)
        rules = total.rules_line()
        return total.line() if rules is None else f"{total.line()}; {rules}"


def _batch_response(settler: _Settler, entries: list[str]) -> dict[str, Any]:
    order = {e: i for i, e in enumerate(entries)}
    failed = sorted(set(settler.failed), key=lambda e: order.get(e, len(order)))
    log.info("%s; %d of %d batch items failed", settler.summary_line(), len(failed), len(entries))
    return {"batchItemFailures": [{"itemIdentifier": e} for e in failed]}


def _handle_sqs(rt: _Runtime, records: list[dict[str, Any]]) -> dict[str, Any]:
    settler = _Settler(rt)
    entries = [str(r.get("messageId")) for r in records]
    for record, entry in zip(records, entries, strict=True):
        if settler.sink_down:
            # The sink is down or refused a whole batch: every other message would fail too, slowly.
            settler.failed.append(entry)
            continue
        where = f"sqs://{_queue_name(record)}/{entry}"
        settler.add(entry, partial(_body_items, rt, str(record.get("body", "")), where, entry))
    settler.finish()
    return _batch_response(settler, entries)


def _handle_kinesis(rt: _Runtime, records: list[dict[str, Any]]) -> dict[str, Any]:
    settler = _Settler(rt)
    entries = [str(r.get("kinesis", {}).get("sequenceNumber")) for r in records]
    for index, (record, entry) in enumerate(zip(records, entries, strict=True)):
        where = f"kinesis://{_stream_name(record)}/{entry}"
        if not settler.add(entry, partial(_kinesis_items, rt, record, where)):
            # Lambda resumes a shard from the lowest failed sequence number: the rest is retried anyway.
            settler.failed.extend(entries[index + 1:])
            break
    settler.finish()
    return _batch_response(settler, entries)


def _kinesis_items(rt: _Runtime, record: dict[str, Any], where: str) -> list[Item]:
    data = record.get("kinesis", {}).get("data", "")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        return [DeadLetter(data, f"Kinesis data is not base64: {exc}", where, "record")]
    return _subscription_items(rt, raw, where)


def _handle_whole(rt: _Runtime, items: Callable[[], list[Item]], what: str) -> dict[str, Any]:
    settler = _Settler(rt)
    settler.add(what, items)
    settler.finish()
    line = settler.summary_line()
    if settler.failed:
        # Raising makes Lambda retry the event (and send it to the on-failure destination at the end).
        raise RuntimeError(f"{what}: not every record was settled ({line}); see the error above")
    log.info("%s: %s", what, line)
    return {"summary": line}


def _queue_name(record: Mapping[str, Any]) -> str:
    return str(record.get("eventSourceARN", "queue")).rsplit(":", 1)[-1]


def _stream_name(record: Mapping[str, Any]) -> str:
    return str(record.get("eventSourceARN", "stream")).rsplit("/", 1)[-1]


def _sns_items(rt: _Runtime, records: list[dict[str, Any]]) -> list[Item]:
    items: list[Item] = []
    for record in records:
        sns = record.get("Sns") or {}
        items.extend(_body_items(rt, str(sns.get("Message", "")), f"sns://{sns.get('MessageId')}",
                                 str(sns.get("MessageId", ""))))
    return items


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point; SQS and Kinesis events get ``{"batchItemFailures": [...]}`` back."""
    rt = _runtime()
    if isinstance(event.get("awslogs"), dict):
        data = str(event["awslogs"].get("data", ""))
        return _handle_whole(rt, partial(_subscription_items, rt, data, "logs://"), "CloudWatch Logs event")
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        source = records[0].get("eventSource") or records[0].get("EventSource")
        if source == "aws:sqs":
            return _handle_sqs(rt, records)
        if source == "aws:kinesis":
            return _handle_kinesis(rt, records)
        if source == "aws:s3":
            return _handle_whole(rt, partial(_s3_record_items, rt, records, "s3-event"), "S3 event")
        if source == "aws:sns":
            return _handle_whole(rt, partial(_sns_items, rt, records), "SNS event")
    if "detail-type" in event:
        # EventBridge rule targeting the function directly.
        return _handle_whole(rt, partial(_body_items, rt, orjson.dumps(event).decode(), "eventbridge"),
                             "EventBridge event")
    raise ValueError("unrecognised event: expected S3, SQS, SNS, EventBridge, CloudWatch Logs or Kinesis; "
                     f"top-level keys {sorted(event)[:8]}")
