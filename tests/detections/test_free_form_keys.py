"""A key inside CloudTrail's free-form objects is matched on the object's text rendering (Elastic's
``{k=v, k2=[a, b]}``): the patterns hold exactly where the key has the value, in either case."""

from __future__ import annotations

import re

import pytest
from sigma.types import SigmaString

from connector.detections.transformations import rendering_regex, rendering_wildcard
from connector.normalize.java_text import java_text

SECURITY_GROUP = {
    "groupId": "sg-0abc",
    "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                 "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "debug"}]}}]},
}
LAYERS = {"functionName": "billing", "layers": ["arn:aws:lambda:us-east-1:1:layer:evil:3", "arn:aws:lambda:x:2"]}
TASK = {"containerDefinitions": [{"name": "web", "command": ["sh", "-c", "curl 169.254.170.2$AWS_CONTAINER"]}]}


def _holds(key: str, value: str, obj: object) -> bool:
    # Lucene's regular expressions and Python's agree on the constructs the pattern uses.
    return re.fullmatch(rendering_regex(key, SigmaString(value)), java_text(obj).lower()) is not None


@pytest.mark.parametrize(("key", "value", "obj", "expected"), [
    ("cidrIp", "0.0.0.0/0", SECURITY_GROUP, True),
    ("CIDRIP", "0.0.0.0/0", SECURITY_GROUP, True),  # either case, key and value
    ("cidrIp", "0.0.0.0/00", SECURITY_GROUP, False),  # a value ends where the rendering says
    ("cidrIp", "0.0.0.0", SECURITY_GROUP, False),
    ("cidrIp", "0.0.0.0*", SECURITY_GROUP, True),  # startswith
    ("fromPort", "22", SECURITY_GROUP, True),  # numbers as the rendering spells them
    ("toPort", "2", SECURITY_GROUP, False),
    ("Id", "sg-0abc", SECURITY_GROUP, False),  # a key is a whole name: not the tail of groupId
    ("groupId", "SG-0ABC", SECURITY_GROUP, True),
    ("layers", "*layer:evil*", LAYERS, True),  # contains, in a list
    ("layers", "arn:aws:lambda:x:2", LAYERS, True),  # equals one element of a list
    ("layers", "arn:aws:lambda:x", LAYERS, False),
    ("command", "*169.254.170.2*", TASK, True),  # nested: matched by the last key's name
    ("command", "*169.254.169.254*", TASK, False),
    ("name", "web", TASK, True),
    ("name", "we?", TASK, True),  # ? is one character
])
def test_rendering_regex(key: str, value: str, obj: object, expected: bool) -> None:
    assert _holds(key, value, obj) is expected


def test_rendering_wildcard_is_key_and_value_inside_the_text() -> None:
    pattern = rendering_wildcard("cidrIp", SigmaString("0.0.0.0/0"))
    assert str(pattern) == "*cidrIp=0.0.0.0/0*"
    assert str(rendering_wildcard("layers", SigmaString("*evil*"))) == "*layers=*evil**"
