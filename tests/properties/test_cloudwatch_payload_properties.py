"""CloudWatch Logs subscription payloads (base64 of gzip of JSON, as Lambda, Kinesis and Firehose carry
them), whole or damaged: ``subscription_unit`` gives a unit, a skip, or ``SubscriptionPayloadError``
and nothing else, and the unit settles every line of every event."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from connector.formats.base import Skipped
from connector.pipeline import UNDETECTED_RULE, RecordProcessor
from connector.sources.cloudwatch_payload import SubscriptionPayloadError, subscription_unit
from tests.properties.settling import settle
from tests.properties.strategies import (
    V2_LAYOUT,
    blank,
    deep_json,
    flow_line,
    json_values,
    pack_subscription,
    subscription_document,
    trail_records,
)

GROUPS = {"/aws/vpc/flowlogs/prod": "vpcflow", "cloudtrail/management": "cloudtrail", "app/other": None}
FORMATS = {"/aws/vpc/custom": "${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}"}
CUSTOM = ("account-id", "interface-id", "srcaddr", "dstaddr", "action")


@st.composite
def pages(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A DATA_MESSAGE page of a flow-log, CloudTrail or other group, with damaged messages mixed in."""
    group = draw(st.sampled_from([*GROUPS, *FORMATS]))
    if group in FORMATS:
        line = flow_line(CUSTOM)
    elif GROUPS[group] == "cloudtrail":
        line = trail_records().map(lambda r: json.dumps(r))
    else:
        line = flow_line(V2_LAYOUT)
    messages = draw(st.lists(st.one_of(line, line, st.text(max_size=50), st.just(""), st.just("a\nb\r\n")),
                             max_size=8))
    return subscription_document(group, messages), messages


def _lines(messages: list[str]) -> int:
    return sum(1 for m in messages for line in m.rstrip("\r\n").split("\n") if not blank(line))


def _encodings(doc: Any) -> st.SearchStrategy[str | bytes | dict[str, Any]]:
    raw = json.dumps(doc).encode("utf-8", "surrogatepass")
    return st.sampled_from([pack_subscription(doc), gzip.compress(raw), raw, doc if isinstance(doc, dict) else raw])


_SURROGATE_PAGE = subscription_document("/aws/vpc/flowlogs/\udcff", ["2 \ud800 x", "\x00"])


@given(pages().flatmap(lambda page: st.tuples(st.just(page), _encodings(page[0]))))
@example(((_SURROGATE_PAGE, ["2 \ud800 x", "\x00"]), _SURROGATE_PAGE))
def test_pages_settle_every_line(processor: RecordProcessor,
                                 case: tuple[tuple[dict[str, Any], list[str]], str | bytes | dict[str, Any]]) -> None:
    (doc, messages), data = case
    try:
        unit = subscription_unit(data, FORMATS)
    except SubscriptionPayloadError as exc:
        # Only text no JSON parser takes: a lone surrogate in a message.
        assert any("\ud800" <= c <= "\udfff" for m in messages for c in m), exc
        return
    if not messages:
        assert isinstance(unit, Skipped) and unit.rule, unit  # a page without events
        return
    assert not isinstance(unit, Skipped), unit
    settled = settle(processor, [unit])
    if settled.summary.skipped_by_rule[UNDETECTED_RULE]:
        assert GROUPS.get(doc["logGroup"], "flow") is None and settled.summary.read == 1
        return
    settled.assert_accounts_for(_lines(messages) or 1)


@given(st.one_of(
    st.binary(max_size=80),
    st.text(max_size=80),
    json_values(8).map(lambda v: pack_subscription(v)),
    json_values(8).map(lambda v: base64.b64encode(json.dumps(v).encode("utf-8", "surrogatepass")).decode()),
    st.fixed_dictionaries({"messageType": json_values(1), "logGroup": json_values(1), "logStream": json_values(1),
                           "logEvents": json_values(6)}).map(pack_subscription),
))
@example(base64.b64encode(gzip.compress(b"\x00" * (70 * 1024 * 1024))).decode())
@example(base64.b64encode(gzip.compress(deep_json(10_000).encode())).decode())
@example(base64.b64encode(gzip.compress(json.dumps(subscription_document("g", ["x"]))[:-5].encode())).decode())
@example(base64.b64encode(gzip.compress(b"{}"))[:-4].decode())
@example("\ud800")
def test_anything_else_is_a_payload_error_with_its_reason(data: str | bytes) -> None:
    try:
        result = subscription_unit(data)
    except SubscriptionPayloadError as exc:
        assert str(exc).strip()
        return
    # Some generated documents are pages after all (a CONTROL_MESSAGE, or a DATA_MESSAGE of events).
    assert result is not None
