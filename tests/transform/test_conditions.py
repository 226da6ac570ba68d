"""Filter conditions: every operator on scalar, list and absent fields, and the errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from connector.transform.conditions import ConditionError, compile_when

FLOW = {
    "event": {"action": "ACCEPT", "outcome": "success", "type": ["connection", "allowed"]},
    "source": {"ip": "10.0.1.5", "port": 49152},
    "destination": {"ip": "203.0.113.9", "port": 22},
    "network": {"direction": "outbound", "transport": "tcp"},
    "related": {"ip": ["10.0.1.5", "203.0.113.9"]},
    "user": {"name": "monitoring-bot"},
    "threat": {"enrichments": [{"indicator": {"provider": "feodo"}}, {"indicator": {"provider": "spamhaus"}}]},
    "flag": True,
}


def holds(when: dict[str, Any], doc: dict[str, Any] = FLOW) -> bool:
    return compile_when(when)(doc)


@pytest.mark.parametrize(("when", "expected"), [
    ({"event.outcome": "success"}, True),
    ({"event.outcome": "failure"}, False),
    ({"event.outcome": ["failure", "success"]}, True),  # a list: any of
    ({"event.outcome": {"equals": "success"}}, True),
    ({"destination.port": 22}, True),
    ({"destination.port": "22"}, True),  # text and number compare as Elasticsearch coerces them
    ({"flag": True}, True),
    ({"flag": "true"}, True),
    ({"event.type": "allowed"}, True),  # a list field: any element
    ({"event.type": "denied"}, False),
    ({"event.outcome": "SUCCESS"}, False),  # exact, not case-folded
    ({"missing.field": "x"}, False),
])
def test_equals(when, expected):
    assert holds(when) is expected


@pytest.mark.parametrize(("when", "expected"), [
    ({"user.name": {"in": ["alice", "monitoring-bot"]}}, True),
    ({"user.name": {"in": ["alice"]}}, False),
    ({"destination.port": {"in": [22, 3389]}}, True),
    ({"user.name": {"prefix": ["monitor", "x"]}}, True),
    ({"user.name": {"prefix": "bot"}}, False),
    ({"user.name": {"suffix": "-bot"}}, True),
    ({"user.name": {"suffix": ["monitor"]}}, False),
    ({"user.name": {"contains": "ring-b"}}, True),
    ({"user.name": {"contains": ["zzz"]}}, False),
    ({"user.name": {"regex": "^mon.*bot$"}}, True),
    ({"user.name": {"regex": "bot"}}, True),  # unanchored search
    ({"user.name": {"regex": "^bot"}}, False),
    ({"source.ip": {"cidr": "10.0.0.0/8"}}, True),
    ({"source.ip": {"cidr": ["192.168.0.0/16", "172.16.0.0/12"]}}, False),
    ({"related.ip": {"cidr": "203.0.113.0/24"}}, True),  # any element of a list
    ({"destination.ip": {"cidr": "fd00::/8"}}, False),  # another family never matches
    ({"user.name": {"cidr": "10.0.0.0/8"}}, False),  # not an address
    ({"destination.port": {"prefix": "2"}}, False),  # text operators never match numbers
    ({"user.name": {"exists": True}}, True),
    ({"user.email": {"exists": True}}, False),
    ({"user.email": {"exists": False}}, True),
    ({"user.name": {"exists": False}}, False),
    ({"threat.enrichments.indicator.provider": "spamhaus"}, True),  # through a list of objects
    ({"threat.enrichments.indicator.provider": {"exists": True}}, True),
])
def test_operators(when, expected):
    assert holds(when) is expected


@pytest.mark.parametrize(("when", "expected"), [
    ({"source.ip": {"not": {"cidr": "10.0.0.0/8"}}}, False),
    ({"destination.ip": {"not": {"cidr": "10.0.0.0/8"}}}, True),
    ({"event.outcome": {"not": "failure"}}, True),
    ({"event.outcome": {"not": ["failure", "success"]}}, False),
    ({"user.email": {"not": "x"}}, True),  # an absent field is not equal to anything
    ({"user.email": {"not": {"exists": True}}}, True),
    ({"event.type": {"not": "allowed"}}, False),  # not: no element matches
    ({"user.name": {"prefix": "monitor", "not": {"suffix": "-bot"}}}, False),  # operators in one mapping: all
    ({"user.name": {"prefix": "monitor", "suffix": "-bot"}}, True),
])
def test_not_and_combined_operators(when, expected):
    assert holds(when) is expected


def test_all_entries_must_hold_and_an_empty_when_matches_everything():
    assert holds({"event.outcome": "success", "network.direction": "outbound"}) is True
    assert holds({"event.outcome": "success", "network.direction": "internal"}) is False
    assert holds({}) is True


@pytest.mark.parametrize(("when", "message"), [
    ({"event.action": {"startswith": "Get"}}, "event.action: unknown operator(s) startswith"),
    ({"source.ip": {"cidr": "10.0.0.0/33"}}, "source.ip: cidr '10.0.0.0/33' is not a network"),
    ({"source.ip": {"cidr": "not-a-net"}}, "source.ip: cidr 'not-a-net' is not a network"),
    ({"user.name": {"regex": "(unclosed"}}, "user.name: regex '(unclosed' is not valid"),
    ({"user.name": {"in": "alice"}}, "user.name: in takes a list"),
    ({"user.name": {"exists": "yes"}}, "user.name: exists takes true or false"),
    ({"user.name": {}}, "user.name: an empty condition"),
    ({"user.name": {"prefix": []}}, "user.name: prefix needs at least one value"),
    ({"user.name": {"equals": {"a": 1}}}, "user.name: equals takes a value or a list of values"),
    ({"a..b": "x"}, "'a..b' is not a field path"),
    ({"user.name": {"not": {"regex": "["}}}, "user.name: regex '[' is not valid"),
])
def test_bad_conditions_name_the_field(when, message):
    with pytest.raises(ConditionError) as caught:
        compile_when(when)
    assert message in str(caught.value)
