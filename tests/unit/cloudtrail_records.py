"""CloudTrail records shaped as AWS writes them, shared by the CloudTrail and golden tests."""

from __future__ import annotations

from typing import Any

ACCOUNT = "111122223333"

CONSOLE_LOGIN_FAILURE: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE", "accountId": ACCOUNT,
                     "accessKeyId": "", "userName": "alice"},
    "eventTime": "2026-11-27T10:15:30Z",
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "81.2.69.142",
    "userAgent": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/119.0.0.0 Safari/537.36"),
    "errorMessage": "Failed authentication",
    "requestParameters": None,
    "responseElements": {"ConsoleLogin": "Failure"},
    "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                            "MFAUsed": "No"},
    "eventID": "3fcfb53e-1234-4f3a-9d2c-0a1b2c3d4e5f",
    "readOnly": False,
    "eventType": "AwsConsoleSignIn",
    "managementEvent": True,
    "recipientAccountId": ACCOUNT,
    "eventCategory": "Management",
    "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                   "clientProvidedHostHeader": "signin.aws.amazon.com"},
}

ASSUME_ROLE: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "AssumedRole", "principalId": "AROAEXAMPLEADMIN:bob-session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob-session", "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEBOB",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEADMIN",
                              "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "accountId": ACCOUNT, "userName": "Admin"},
            "attributes": {"creationDate": "2026-11-27T09:00:00Z", "mfaAuthenticated": "true"},
        },
    },
    "eventTime": "2026-11-27T10:20:00Z",
    "eventSource": "sts.amazonaws.com",
    "eventName": "AssumeRole",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "89.160.20.156",
    "userAgent": "aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/sts.assume-role",
    "requestParameters": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/ReadOnly", "roleSessionName": "audit",
                          "durationSeconds": 3600},
    "responseElements": {
        "credentials": {"accessKeyId": "ASIAEXAMPLENEW", "expiration": "Nov 27, 2026, 11:20:00 AM",
                        "sessionToken": "FwoGZXIvYXdzEXAMPLE"},
        "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLERO:audit",
                            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ReadOnly/audit"},
    },
    "requestID": "6b0a1f4e-0000-4000-8000-00000000aaaa",
    "eventID": "b7a1c2d3-0000-4000-8000-000000000001",
    "readOnly": True,
    "resources": [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT}:role/ReadOnly"}],
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": ACCOUNT,
    "eventCategory": "Management",
    "tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
                   "clientProvidedHostHeader": "sts.amazonaws.com"},
}

SERVICE_CALL: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
    "eventTime": "2026-11-27T10:25:00.123Z",
    "eventSource": "sts.amazonaws.com",
    "eventName": "AssumeRole",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "ec2.amazonaws.com",
    "userAgent": "ec2.amazonaws.com",
    "requestParameters": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/web-instance", "roleSessionName": "i-0abc123"},
    "responseElements": None,
    "requestID": "6b0a1f4e-0000-4000-8000-00000000bbbb",
    "eventID": "c0000000-0000-4000-8000-000000000002",
    "readOnly": True,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": ACCOUNT,
    "sharedEventID": "5e4d3c2b-0000-4000-8000-00000000cccc",
    "eventCategory": "Management",
}

ROOT_LOGIN: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                     "accountId": ACCOUNT},
    "eventTime": "2026-11-27T11:00:00Z",
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "89.160.20.156",
    "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Safari/605.1.15",
    "requestParameters": None,
    "responseElements": {"ConsoleLogin": "Success"},
    "additionalEventData": {"MFAUsed": "Yes", "MobileVersion": "No"},
    "eventID": "d0000000-0000-4000-8000-000000000003",
    "eventType": "AwsConsoleSignIn",
    "recipientAccountId": ACCOUNT,
}

ACCESS_DENIED: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "IAMUser", "userName": "eve", "principalId": "AIDAEXAMPLEEVE", "accountId": ACCOUNT},
    "eventTime": "2026-11-27T12:00:00+02:00",
    "eventSource": "iam.amazonaws.com",
    "eventName": "CreateUser",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "2001:4860:4860::8888",
    "errorCode": "AccessDenied",
    "errorMessage": "User: arn:aws:iam::111122223333:user/eve is not authorized to perform: iam:CreateUser",
    "requestParameters": {"userName": "mallory"},
    "eventID": "e0000000-0000-4000-8000-000000000004",
}
