"""related.entity and target.entity.id: who acted and what the call acted on."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.normalize.cloudtrail_entities import EntityTable
from tests.unit.test_cloudtrail import docs_of, record

ROLE_SESSION = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:i-0abc",
    "arn": "arn:aws:sts::111122223333:assumed-role/ops/i-0abc",
    "accessKeyId": "ASIAEXAMPLE",
    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/ops",
                                         "userName": "ops"}},
}


def test_security_group_change_names_actor_and_every_group_and_rule(processor) -> None:
    rec = record(
        1,
        eventName="AuthorizeSecurityGroupIngress",
        userIdentity=ROLE_SESSION,
        requestParameters={"groupId": "sg-0aaa"},
        responseElements={"securityGroupRuleSet": {"items": [
            {"groupId": "sg-0aaa", "securityGroupRuleId": "sgr-01"},
            {"groupId": "sg-0aaa", "securityGroupRuleId": "sgr-02", "referencedGroupInfo": {"groupId": "sg-0bbb"}},
        ]}},
    )
    doc = docs_of(processor, rec)
    assert doc["target"]["entity"]["id"] == ["sg-0aaa", "sgr-01", "sgr-02"]
    assert doc["related"]["entity"] == [
        "arn:aws:sts::111122223333:assumed-role/ops/i-0abc", "ASIAEXAMPLE", "arn:aws:iam::111122223333:role/ops",
        "ops", "sg-0aaa", "sgr-01", "sgr-02", "sg-0bbb",
    ]


def test_resources_arns_are_targets_and_versioned_lambda_names_match(processor) -> None:
    rec = record(
        2,
        eventName="AddPermission20150331v2",
        eventSource="lambda.amazonaws.com",
        userIdentity={"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"},
        requestParameters={"functionName": "exfil"},
        resources=[{"ARN": "arn:aws:lambda:us-east-1:111122223333:function:exfil", "accountId": "111122223333"},
                   {"ARN": ""}],
    )
    doc = docs_of(processor, rec)
    assert doc["target"]["entity"]["id"] == ["arn:aws:lambda:us-east-1:111122223333:function:exfil", "exfil"]
    assert doc["related"]["entity"][:2] == ["arn:aws:iam::111122223333:user/alice", "alice"]


def test_a_list_of_names_yields_one_target_each_and_duplicates_collapse(processor) -> None:
    rec = record(
        3,
        eventName="BatchGetSecretValue",
        userIdentity={"type": "IAMUser", "userName": "bob", "accessKeyId": "bob"},
        requestParameters={"secretIdList": ["arn:aws:secretsmanager:us-east-1:1:secret:a", "arn:aws:secretsmanager:"
                                            "us-east-1:1:secret:b", "arn:aws:secretsmanager:us-east-1:1:secret:a"]},
    )
    doc = docs_of(processor, rec)
    assert doc["target"]["entity"]["id"] == ["arn:aws:secretsmanager:us-east-1:1:secret:a",
                                            "arn:aws:secretsmanager:us-east-1:1:secret:b"]
    assert doc["related"]["entity"].count("bob") == 1


def test_an_api_outside_the_table_gets_actors_only_and_no_target(processor) -> None:
    doc = docs_of(processor, record(4, userIdentity=ROLE_SESSION, requestParameters={"instanceId": "i-1"}))
    assert "target" not in doc
    assert "i-1" not in doc["related"]["entity"]
    assert "ops" in doc["related"]["entity"]


def test_no_identity_and_no_table_entry_leaves_both_fields_out(processor) -> None:
    doc = docs_of(processor, record(5))
    assert "entity" not in doc.get("related", {})
    assert "target" not in doc


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"apis": {"X": {"targetz": ["a"]}}}, "X: expected targets and/or related"),
        ({"actor": [""]}, "a path must be non-empty text"),
        ({"apis": {"X": {"targets": [3]}}}, "a path must be non-empty text"),
    ],
)
def test_a_broken_table_is_a_config_error(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EntityTable(spec)


def test_the_unrolled_collectors_find_what_the_generic_walk_finds() -> None:
    from connector.normalize.cloudtrail_entities import _collect, _compile, _tree

    tree = _tree(["a.b", "a.c.d", "a.c", "e", "f.g.h"])
    shapes = [
        {"a": {"b": "1", "c": {"d": "2"}}, "e": "3", "f": {"g": {"h": "4"}}},
        {"a": [{"b": "1"}, {"b": ["2", "", 7, "3"]}], "e": ["4", {"x": 1}], "f": {"g": [{"h": "5"}, {"h": ""}]}},
        {"a": {"c": ["x", {"d": "y"}]}, "e": None, "f": "not an object"},
        [{"e": "top-level list"}, {"a": {"b": "z"}}],
        "text",
    ]
    for node in shapes:
        walked: list[str] = []
        unrolled: list[str] = []
        _collect(node, tree, walked)
        _compile(tree)(node, unrolled)
        assert unrolled == walked, node
    assert walked == [] and unrolled == []
    found: list[str] = []
    _compile(tree)(shapes[1], found)
    assert found == ["1", "2", "3", "4", "5"]
