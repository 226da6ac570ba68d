"""AWS Config history/snapshot objects and notifications (raw, SNS, EventBridge, oversized, compliance) to ECS."""

from __future__ import annotations

import copy
import json

import pytest

from connector.config import AppConfig
from connector.pipeline import RecordProcessor
from tests.unit._support import gz, process, run_pipeline, unit
from tests.unit.config_records import (
    CHANGE_NOTIFICATION,
    COMPLIANCE_CHANGE,
    INSTANCE_ITEM,
    SECURITY_GROUP_ITEM,
    eventbridge,
    sns,
)

HISTORY_KEY = ("AWSLogs/111122223333/Config/us-east-1/2026/11/27/ConfigHistory/111122223333_Config_us-east-1_"
               "ConfigHistory_AWS::EC2::SecurityGroup_20261127T140000Z_20261127T150000Z_1.json.gz")
SNAPSHOT_KEY = ("AWSLogs/111122223333/Config/us-east-1/2026/11/27/ConfigSnapshot/111122223333_Config_us-east-1_"
                "ConfigSnapshot_20261127T150000Z_0a1b2c3d-0000-4000-8000-000000000000.json.gz")
SG_ID = "AWS::EC2::SecurityGroup/sg-0a1b2c3d4e5f60718/1795788229123"
OVERSIZED = {
    "configurationItemSummary": {"changeType": "UPDATE", "configurationItemVersion": "1.3",
                                 "configurationItemCaptureTime": "2026-11-27T14:03:49.123Z",
                                 "configurationStateId": 1795788229123, "awsAccountId": "111122223333",
                                 "configurationItemStatus": "OK", "resourceType": "AWS::EC2::SecurityGroup",
                                 "resourceId": "sg-0a1b2c3d4e5f60718"},
    "s3DeliverySummary": {"s3BucketLocation": "config-bucket/AWSLogs/111122223333/Config/oversized/item.json",
                          "errorCode": None, "errorMessage": None},
    "notificationCreationTime": "2026-11-27T14:03:50.412Z",
    "messageType": "OversizedConfigurationItemChangeNotification",
    "recordVersion": "1.0",
}


def one(processor, doc, key="notification.json", hint=None):
    out = process(processor, json.dumps(doc).encode(), key, hint)
    assert not out.dead and len(out.docs) == 1, out.dead
    return out.docs[0]


def test_history_object_yields_one_change_document_per_item(processor):
    body = {"fileVersion": "1.0", "configurationItems": [SECURITY_GROUP_ITEM, INSTANCE_ITEM]}
    out = process(processor, gz(json.dumps(body)), HISTORY_KEY)
    assert [d["event"]["id"] for d in out.docs] == [SG_ID, "AWS::EC2::Instance/i-0a1b2c3d4e5f/1795788229999"]
    sg, instance = out.docs
    assert sg["event"]["kind"] == "event" and sg["event"]["type"] == ["change"]
    assert instance["event"]["type"] == ["creation"]
    assert sg["event"]["dataset"] == "aws.config" and sg["event"]["category"] == ["configuration"]
    assert sg["@timestamp"] == "2026-11-27T14:03:49.123Z"
    assert sg["cloud"]["account"]["id"] == "111122223333" and sg["cloud"]["region"] == "us-east-1"
    assert sg["aws"]["config"]["resource_type"] == "AWS::EC2::SecurityGroup"
    assert sg["aws"]["config"]["configuration"]["groupName"] == "bastion-sg"
    assert sg["aws"]["config"]["configuration_state_id"] == "1795788229123"
    assert instance["cloud"]["availability_zone"] == "us-east-1a"
    assert instance["aws"]["config"]["resource_creation_time"] == "2026-11-27T14:00:00.000Z"


def test_not_applicable_availability_zone_produces_no_cloud_field(processor):
    doc = one(processor, {"configurationItems": [SECURITY_GROUP_ITEM]}, HISTORY_KEY)
    assert "availability_zone" not in doc["cloud"]


def test_snapshot_items_are_state_documents(processor):
    body = {"fileVersion": "1.0", "configSnapshotId": "0a1b2c3d", "configurationItems": [SECURITY_GROUP_ITEM]}
    out = process(processor, gz(json.dumps(body)), SNAPSHOT_KEY)
    assert [(d["event"]["kind"], d["event"]["type"], d["event"]["id"]) for d in out.docs] == [
        ("state", ["info"], SG_ID)]


def test_history_ids_are_the_same_on_reingest(processor):
    body = gz(json.dumps({"configurationItems": [SECURITY_GROUP_ITEM]}))
    first = process(processor, body, HISTORY_KEY).docs[0]["event"]["id"]
    assert process(processor, body, "elsewhere/copy.json.gz", "config").docs[0]["event"]["id"] == first == SG_ID


@pytest.mark.parametrize("wrap", [lambda m: m, sns, eventbridge], ids=["raw", "sns", "eventbridge"])
def test_change_notification_in_every_envelope(processor, wrap):
    doc = one(processor, wrap(CHANGE_NOTIFICATION))
    assert doc["event"]["id"] == SG_ID
    assert doc["event"]["action"] == "ConfigurationItemChangeNotification"
    assert doc["aws"]["config"]["change_type"] == "UPDATE"
    assert doc["aws"]["config"]["notification_creation_time"] == "2026-11-27T14:03:50.412Z"
    assert doc["aws"]["config"]["resource_id"] == "sg-0a1b2c3d4e5f60718"


def test_oversized_notification_fetches_and_normalizes_the_full_item():
    asked = []

    def fetch(where: str) -> bytes:
        asked.append(where)
        return json.dumps(CHANGE_NOTIFICATION).encode()

    proc = RecordProcessor(AppConfig(), fetch_oversized=fetch)
    try:
        doc = one(proc, sns(OVERSIZED))
    finally:
        proc.close()
    assert asked == ["config-bucket/AWSLogs/111122223333/Config/oversized/item.json"]
    assert doc["event"]["id"] == SG_ID and doc["aws"]["config"]["configuration"]["groupName"] == "bastion-sg"


def test_oversized_notification_without_fetcher_is_dead_lettered_naming_the_location(processor):
    summary, _sink, dlq = run_pipeline(processor, [unit(json.dumps(OVERSIZED).encode(), "n.json")])
    assert summary.dead_lettered == 1 and summary.written == 0
    assert "s3://config-bucket/AWSLogs/111122223333/Config/oversized/item.json" in dlq.letters[0].reason


def test_oversized_fetch_failure_is_dead_lettered():
    def fetch(where: str) -> bytes:
        raise OSError("access denied")

    proc = RecordProcessor(AppConfig(), fetch_oversized=fetch)
    try:
        out = process(proc, json.dumps(OVERSIZED).encode(), "n.json")
    finally:
        proc.close()
    assert not out.docs and len(out.dead) == 1 and "access denied" in out.dead[0].reason


@pytest.mark.parametrize("wrap", [lambda m: m, sns], ids=["raw", "sns"])
def test_compliance_change_names_the_rule_and_compliance_type(processor, wrap):
    doc = one(processor, wrap(COMPLIANCE_CHANGE))
    assert doc["rule"]["name"] == "restricted-ssh"
    assert doc["aws"]["config"]["compliance"]["type"] == "NON_COMPLIANT"
    assert doc["aws"]["config"]["compliance"]["previous_type"] == "COMPLIANT"
    assert doc["event"]["action"] == "ComplianceChangeNotification"
    assert doc["@timestamp"] == "2026-11-27T14:05:21.087Z"
    assert doc["aws"]["config"]["resource_id"] == "sg-0a1b2c3d4e5f60718"
    assert "message" not in doc  # null annotation


@pytest.mark.parametrize("message_type", ["ConfigurationHistoryDeliveryCompleted",
                                          "ConfigurationSnapshotDeliveryStarted",
                                          "ConfigurationSnapshotDeliveryCompleted"])
def test_delivery_notices_are_skipped_by_rule(processor, message_type):
    body = {"configSnapshotId": "x", "s3ObjectKey": "k", "messageType": message_type, "recordVersion": "1.0"}
    summary, _sink, _dlq = run_pipeline(processor, [unit(json.dumps(sns(body)).encode(), "n.json", "config")])
    assert (summary.skipped, summary.written, summary.dead_lettered) == (1, 0, 0)
    assert any(message_type in rule for rule in summary.skipped_by_rule)


def test_resource_compliance_item_lists_the_failing_rules(processor):
    item = copy.deepcopy(SECURITY_GROUP_ITEM)
    item.update(resourceType="AWS::Config::ResourceCompliance", resourceId="AWS::EC2::SecurityGroup/sg-0a1b",
                configuration={"complianceType": "NON_COMPLIANT", "targetResourceId": "sg-0a1b",
                               "targetResourceType": "AWS::EC2::SecurityGroup",
                               "configRuleList": [{"configRuleName": "restricted-ssh",
                                                   "complianceType": "NON_COMPLIANT"},
                                                  {"configRuleName": "vpc-sg-open-only-to-authorized-ports",
                                                   "complianceType": "COMPLIANT"}]})
    doc = one(processor, {"configurationItems": [item]}, HISTORY_KEY)
    assert doc["aws"]["config"]["compliance"]["type"] == "NON_COMPLIANT"
    assert doc["rule"]["name"] == ["restricted-ssh"]
    assert doc["event"]["type"] == ["info"]
    assert doc["event"]["id"] == "AWS::Config::ResourceCompliance/AWS::EC2::SecurityGroup/sg-0a1b/1795788229123"


@pytest.mark.parametrize("body", [{"foo": 1}, [1, 2], {"messageType": "SomethingElse"},
                                  {"Type": "Notification", "Message": "not json"}])
def test_config_document_of_the_wrong_shape_is_dead_lettered(processor, body):
    summary, _sink, dlq = run_pipeline(processor, [unit(json.dumps(body).encode(), "n.json", "config")])
    assert (summary.dead_lettered, summary.written) == (1, 0)
    assert dlq.letters[0].reason


def test_item_without_resource_id_is_dead_lettered_and_the_others_flow(processor):
    broken = {k: v for k, v in SECURITY_GROUP_ITEM.items() if k != "resourceId"}
    out = process(processor, gz(json.dumps({"configurationItems": [broken, INSTANCE_ITEM]})), HISTORY_KEY)
    assert len(out.docs) == 1 and [d.location for d in out.dead] == ["record 1"]
    assert "resourceId" in out.dead[0].reason


def test_one_notification_per_line_file(processor):
    text = json.dumps(CHANGE_NOTIFICATION) + "\n" + json.dumps(sns(COMPLIANCE_CHANGE)) + "\n"
    out = process(processor, text.encode(), "n.ndjson", "config")
    assert [d["event"]["action"] for d in out.docs] == ["ConfigurationItemChangeNotification",
                                                        "ComplianceChangeNotification"]
