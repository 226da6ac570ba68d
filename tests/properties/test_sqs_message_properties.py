"""SQS message bodies of every shape AWS puts on a queue, damaged or not, and junk: ``parse_message``
never raises, its plan is well formed, and an inline payload settles every record it carries."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

from hypothesis import example, given
from hypothesis import strategies as st

from connector.pipeline import UNDETECTED_RULE, RecordProcessor
from connector.sources.sqs import InlinePayload, ReadObjects, SkipMessage, Unreadable, parse_message
from tests.properties.settling import settle
from tests.properties.strategies import (
    V2_LAYOUT,
    blank,
    deep_json,
    flow_line,
    pack_subscription,
    sqs_bodies,
    subscription_document,
)


@given(sqs_bodies())
@example(deep_json(10_000))
@example('{"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "\ud800"}}}]}')
@example("\ud800")
@example(b"\xff\xfe\x00")
@example("x" * (10 * 1024 * 1024))
@example(json.dumps({"Type": "Notification", "Message": deep_json(2_000)}))
@example(json.dumps({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "k", "size": 2**70}}}]}))
def test_every_body_gets_a_plan_and_never_an_exception(processor: RecordProcessor, body: str | bytes) -> None:
    plan = parse_message(body, "m-1")
    if isinstance(plan, ReadObjects):
        assert plan.objects
        assert all(isinstance(o.bucket, str) and o.bucket and isinstance(o.key, str) and o.key for o in plan.objects)
        assert all(o.size is None or isinstance(o.size, int) for o in plan.objects)
    elif isinstance(plan, (SkipMessage, Unreadable)):
        assert (plan.rule if isinstance(plan, SkipMessage) else plan.reason).strip()
    else:
        assert isinstance(plan, InlinePayload)
        settled = settle(processor, [plan.unit()])
        # What the payload held is settled: at least one outcome, and the counts agree.
        summary = settled.summary
        settled.assert_accounts_for(summary.written + summary.skipped + summary.dead_lettered)
        assert summary.written + summary.skipped + summary.dead_lettered >= 1


@given(st.lists(st.tuples(st.text(min_size=1, max_size=30), st.integers(0, 2**40)), min_size=1, max_size=4),
       st.sampled_from(["direct", "sns", "eventbridge-each"]))
def test_s3_notifications_name_exactly_their_objects(objects: list[tuple[str, int]], envelope: str) -> None:
    """Keys come back URL-decoded, in order, whatever characters they hold."""
    keys = [key for key, _ in objects]
    records = [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs"},
                                                         "object": {"key": quote_plus(key.encode("utf-8",
                                                                                                 "surrogatepass")),
                                                                    "size": size}}}
               for key, size in objects]
    bodies = [json.dumps({"Records": records})]
    if envelope == "sns":
        bodies = [json.dumps({"Type": "Notification", "Message": bodies[0]})]
    elif envelope == "eventbridge-each":
        bodies = [json.dumps({"detail-type": "Object Created", "source": "aws.s3",
                              "detail": {"bucket": {"name": "logs"}, "object": r["s3"]["object"]}})
                  for r in records]
    named = []
    for body in bodies:
        plan = parse_message(body)
        assert isinstance(plan, ReadObjects), plan
        named.extend(plan.objects)
    decoded = [key.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for key in keys]
    assert [o.key for o in named] == decoded
    assert [o.size for o in named] == [size for _, size in objects]


@given(st.sampled_from(["/aws/vpc/flowlogs", "cloudtrail-logs", "some-application"]),
       st.lists(st.one_of(flow_line(V2_LAYOUT), st.text(max_size=40)), max_size=8),
       st.sampled_from(["plain", "sns", "awslogs"]))
def test_logs_pages_on_a_queue_settle_every_line(processor: RecordProcessor, group: str, messages: list[str],
                                                 envelope: str) -> None:
    page = subscription_document(group, messages)
    body = pack_subscription(page)
    if envelope == "sns":
        body = json.dumps({"Type": "Notification", "Message": body})
    elif envelope == "awslogs":
        body = json.dumps({"awslogs": {"data": body}})
    plan = parse_message(body, "m-1")
    if any("\ud800" <= c <= "\udfff" for m in messages for c in m):
        assert isinstance(plan, Unreadable)  # JSON with a lone surrogate is no subscription payload
        return
    assert isinstance(plan, InlinePayload), plan
    settled = settle(processor, [plan.unit()])
    lines = [line for m in messages for line in m.rstrip("\n").split("\n")]
    records = sum(1 for line in lines if not blank(line))
    if settled.summary.skipped_by_rule[UNDETECTED_RULE]:
        # A page whose group and content say no known type is skipped whole, by that rule.
        assert (settled.summary.written, settled.summary.dead_lettered, settled.summary.skipped) == (0, 0, 1)
        assert group == "some-application"
        return
    settled.assert_accounts_for(records or 1)
