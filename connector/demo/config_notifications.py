"""The SNS notifications AWS Config sends about the day's bastion-sg incident: the change to the
group and its new restricted-ssh violation, as a queue subscribed to the topic receives them."""

from __future__ import annotations

import json
import random
from typing import Any

from connector.demo.actors import PROD, REGION
from connector.demo.aws_formats import compact_json, iso_millis, since_midnight
from connector.demo.config_history import ConfigChanges
from connector.demo.random_ids import random_alnum, random_hex, random_uuid


def config_notifications(rng: random.Random, day0: int, changes: ConfigChanges, bastion: str) -> dict[str, bytes]:
    """The two notifications by object key: bastion-sg changed, and bastion-sg broke restricted-ssh."""
    notes: dict[str, bytes] = {}
    changed = next(
        i for a, _, i in changes.items if i["resourceId"] == bastion and len(i["configuration"]["ipPermissions"]) == 2
    )
    diff = {
        "changedProperties": {
            "Configuration.IpPermissions.1": {
                "previousValue": None,
                "updatedValue": changed["configuration"]["ipPermissions"][1],
                "changeType": "CREATE",
            }
        },
        "changeType": "UPDATE",
    }
    t = day0 + since_midnight("14:03:50")
    item_message = {
        "configurationItemDiff": diff,
        "configurationItem": changed,
        "notificationCreationTime": iso_millis(t * 1000 + 412),
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    key = "sqs-notifications/config-item-change-bastion-sg.json"
    notes[key] = _sns(
        rng,
        t,
        f"[AWS Config:{REGION}] AWS::EC2::SecurityGroup {bastion} Updated in Account {PROD}",
        item_message,
    )
    rule = changes.ssh_violation["configuration"]["configRuleList"][0]
    recorded = changes.ssh_violation["configurationItemCaptureTime"]
    qualifier = {
        "configRuleName": rule["configRuleName"],
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": bastion,
    }
    t = day0 + since_midnight("14:05:21")
    compliance_message = {
        "awsAccountId": PROD,
        "configRuleName": rule["configRuleName"],
        "configRuleARN": rule["configRuleArn"],
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": bastion,
        "awsRegion": REGION,
        "newEvaluationResult": {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": qualifier,
                "orderingTimestamp": recorded,
            },
            "complianceType": "NON_COMPLIANT",
            "resultRecordedTime": recorded,
            "configRuleInvokedTime": iso_millis((day0 + since_midnight("14:05:18")) * 1000),
            "annotation": None,
            "resultToken": None,
        },
        "oldEvaluationResult": {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": qualifier,
                "orderingTimestamp": iso_millis((day0 + since_midnight("06:05:12")) * 1000),
            },
            "complianceType": "COMPLIANT",
            "resultRecordedTime": iso_millis((day0 + since_midnight("06:05:13")) * 1000),
            "configRuleInvokedTime": iso_millis((day0 + since_midnight("06:05:12")) * 1000),
            "annotation": None,
            "resultToken": None,
        },
        "notificationCreationTime": iso_millis(t * 1000 + 87),
        "messageType": "ComplianceChangeNotification",
        "recordVersion": "1.0",
    }
    key = "sqs-notifications/config-compliance-change-restricted-ssh.json"
    notes[key] = _sns(
        rng,
        t,
        f"[AWS Config:{REGION}] AWS::EC2::SecurityGroup {bastion} is "
        f"NON_COMPLIANT with restricted-ssh in Account {PROD}",
        compliance_message,
    )
    return notes


def _sns(rng: random.Random, t: int, subject: str, message: dict[str, Any]) -> bytes:
    """The SNS envelope of a Config message, as SNS delivers it to a subscribed queue."""
    r = rng
    topic = f"arn:aws:sns:{REGION}:{PROD}:config-notifications"
    envelope = {
        "Type": "Notification",
        "MessageId": random_uuid(r),
        "TopicArn": topic,
        "Subject": subject,
        "Message": compact_json(message).decode(),
        "Timestamp": iso_millis(t * 1000 + r.randrange(1000)),
        "SignatureVersion": "1",
        "Signature": random_alnum(r, 342) + "==",
        "SigningCertURL": (f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-{random_hex(r, 32)}.pem"),
        "UnsubscribeURL": (
            f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:" + random_uuid(r)
        ),
    }
    # SNS pretty-prints its envelope with a space before each colon.
    return (json.dumps(envelope, indent=2, separators=(",", " : ")) + "\n").encode()
