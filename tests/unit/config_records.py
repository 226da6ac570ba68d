"""AWS Config items and notifications shaped as AWS delivers them, shared by the Config and golden tests."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "111122223333"

SECURITY_GROUP_ITEM: dict[str, Any] = {
    "relatedEvents": ["b7a1c2d3-0000-4000-8000-000000000009"],
    "relationships": [{"resourceId": "vpc-0a1b2c3d", "resourceName": None, "resourceType": "AWS::EC2::VPC",
                       "name": "Is contained in Vpc"}],
    "configuration": {"description": "bastion", "groupName": "bastion-sg", "groupId": "sg-0a1b2c3d4e5f60718",
                      "ownerId": ACCOUNT, "vpcId": "vpc-0a1b2c3d",
                      "ipPermissions": [{"fromPort": 22, "toPort": 22, "ipProtocol": "tcp",
                                         "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}]},
    "supplementaryConfiguration": {},
    "tags": {"Name": "bastion-sg"},
    "configurationItemVersion": "1.3",
    "configurationItemCaptureTime": "2026-11-27T14:03:49.123Z",
    "configurationStateId": 1795788229123,
    "awsAccountId": ACCOUNT,
    "configurationItemStatus": "OK",
    "resourceType": "AWS::EC2::SecurityGroup",
    "resourceId": "sg-0a1b2c3d4e5f60718",
    "resourceName": "bastion-sg",
    "ARN": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718",
    "awsRegion": "us-east-1",
    "availabilityZone": "Not Applicable",
    "configurationStateMd5Hash": "",
    "resourceCreationTime": None,
}

INSTANCE_ITEM: dict[str, Any] = {
    **SECURITY_GROUP_ITEM,
    "configuration": {"instanceId": "i-0a1b2c3d4e5f", "instanceType": "t3.micro"},
    "resourceType": "AWS::EC2::Instance",
    "resourceId": "i-0a1b2c3d4e5f",
    "resourceName": None,
    "configurationStateId": 1795788229999,
    "configurationItemStatus": "ResourceDiscovered",
    "availabilityZone": "us-east-1a",
    "ARN": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0a1b2c3d4e5f",
    "resourceCreationTime": "2026-11-27T14:00:00.000Z",
}

CHANGE_NOTIFICATION: dict[str, Any] = {
    "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
    "configurationItem": SECURITY_GROUP_ITEM,
    "notificationCreationTime": "2026-11-27T14:03:50.412Z",
    "messageType": "ConfigurationItemChangeNotification",
    "recordVersion": "1.3",
}

COMPLIANCE_CHANGE: dict[str, Any] = {
    "awsAccountId": ACCOUNT,
    "configRuleName": "restricted-ssh",
    "configRuleARN": f"arn:aws:config:us-east-1:{ACCOUNT}:config-rule/config-rule-or0axl",
    "resourceType": "AWS::EC2::SecurityGroup",
    "resourceId": "sg-0a1b2c3d4e5f60718",
    "awsRegion": "us-east-1",
    "newEvaluationResult": {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": {"configRuleName": "restricted-ssh",
                                          "resourceType": "AWS::EC2::SecurityGroup",
                                          "resourceId": "sg-0a1b2c3d4e5f60718"},
            "orderingTimestamp": "2026-11-27T14:05:20.575Z"},
        "complianceType": "NON_COMPLIANT",
        "resultRecordedTime": "2026-11-27T14:05:20.575Z",
        "configRuleInvokedTime": "2026-11-27T14:05:18.000Z",
        "annotation": None,
        "resultToken": None,
    },
    "oldEvaluationResult": {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": {"configRuleName": "restricted-ssh",
                                          "resourceType": "AWS::EC2::SecurityGroup",
                                          "resourceId": "sg-0a1b2c3d4e5f60718"},
            "orderingTimestamp": "2026-11-27T06:05:12.000Z"},
        "complianceType": "COMPLIANT",
        "resultRecordedTime": "2026-11-27T06:05:13.000Z",
        "configRuleInvokedTime": "2026-11-27T06:05:12.000Z",
        "annotation": None,
        "resultToken": None,
    },
    "notificationCreationTime": "2026-11-27T14:05:21.087Z",
    "messageType": "ComplianceChangeNotification",
    "recordVersion": "1.0",
}


def sns(message: dict[str, Any]) -> dict[str, Any]:
    """Wrap a notification as SNS delivers it to SQS."""
    return {"Type": "Notification", "MessageId": "ba33f56f-8ed0-4ed0-b572-38b7d653bd60",
            "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:config-notifications", "Subject": "[AWS Config:us-east-1]",
            "Message": json.dumps(message), "Timestamp": "2026-11-27T14:05:21.396Z", "SignatureVersion": "1"}


def eventbridge(message: dict[str, Any], detail_type: str = "Config Configuration Item Change") -> dict[str, Any]:
    """Wrap a notification as an EventBridge event."""
    return {"version": "0", "id": "0f1e2d3c-0000-4000-8000-000000000000", "detail-type": detail_type,
            "source": "aws.config", "account": ACCOUNT, "time": "2026-11-27T14:03:50Z", "region": "us-east-1",
            "resources": [], "detail": message}
