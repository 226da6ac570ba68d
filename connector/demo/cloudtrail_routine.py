"""The routine management traffic of the demo day, against which the incidents must stand out:
console reads, Config's describes, instance roles, the reporting job, Terraform and EU monitoring."""

from __future__ import annotations

from typing import Any

from connector.demo.actors import (
    CAROL_IP,
    DEV,
    EU_REGION,
    HOURLY_LOAD,
    OFFICE_IP,
    PROD,
    PROD_NAT_IP,
    REGION,
    UA_BOTO,
    UA_CLI,
    UA_SSM,
    UA_TERRAFORM,
)
from connector.demo.aws_formats import iam_date, since_midnight
from connector.demo.cloudtrail_records import TrailRecorder
from connector.demo.labels import (
    S3_BUCKET_POLICY_CHANGED,
    SECURITY_GROUP_CHANGED,
    UNAUTHORIZED_API_CALLS,
    VPC_CHANGED,
)
from connector.demo.random_ids import random_alnum, random_hex, random_upper

# Routine reads of what a change rule watches: look-alikes that rule must pass over.
READ_LOOKALIKES = {
    "DescribeSecurityGroups": SECURITY_GROUP_CHANGED,
    "DescribeVpcs": VPC_CHANGED,
    "GetBucketAcl": S3_BUCKET_POLICY_CHANGED,
    "GetBucketPolicy": S3_BUCKET_POLICY_CHANGED,
}


def record_routine(trail: TrailRecorder, stop: int, start: int) -> None:
    """Record the day's routine calls in prod, dev and eu-west-1; none between `stop` and `start`."""
    _prod(trail, stop, start)
    _dev(trail)
    _eu(trail, stop, start)


def _label_read(trail: TrailRecorder, name: str, event_id: str) -> None:
    rule = READ_LOOKALIKES.get(name)
    if rule:
        trail.labels.benign(event_id, rule)


def _prod(trail: TrailRecorder, stop: int, start: int) -> None:
    r, e = trail.rng, trail.estate
    for w in range(0, 86400, 300):
        # A stopped trail records nothing: the gap is part of the evidence.
        if stop < w + 300 and w < start:
            continue
        load = HOURLY_LOAD[w // 3600]
        for _ in range(int(8 * load * r.uniform(0.6, 1.4)) + 1):
            t = trail.day0 + w + r.randrange(300)
            if t - trail.day0 in range(stop, start):
                continue
            _prod_call(trail, t, r.random())
        if r.random() < 0.5:
            name, eni = r.choice(sorted(trail.instance_roles.items()))
            del eni
            inst = e.enis[name]
            trail.api_call(
                PROD,
                REGION,
                trail.day0 + w + r.randrange(300),
                trail.instance_roles[name],
                "ssm.amazonaws.com",
                "UpdateInstanceInformation",
                inst.ip,
                UA_SSM,
                {
                    "instanceId": inst.instance_id,
                    "agentVersion": "3.3.987.0",
                    "agentStatus": "Active",
                    "platformType": "Linux",
                    "platformName": "Amazon Linux",
                    "platformVersion": "2023",
                    "iPAddress": inst.ip,
                    "computerName": f"ip-{inst.ip.replace('.', '-')}.ec2.internal",
                    "agentName": "amazon-ssm-agent",
                    "availabilityZone": inst.az,
                    "availabilityZoneId": inst.az_id,
                    "ssmConnectionChannel": "ssmmessages",
                },
                read_only=False,
                extra={"vpcEndpointId": "vpce-" + random_hex(r, 17)},
            )


def _prod_call(trail: TrailRecorder, t: int, roll: float) -> None:
    r, e = trail.rng, trail.estate
    req: dict[str, Any]
    if roll < 0.25:
        name, req = r.choice(
            (
                ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                (
                    "DescribeSecurityGroups",
                    {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
                ),
                ("DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
                ("DescribeNetworkInterfaces", {"networkInterfaceIdSet": {}, "filterSet": {}}),
            )
        )
        event_id = trail.api_call(
            PROD,
            REGION,
            t,
            trail.sso_dana,
            "ec2.amazonaws.com",
            name,
            OFFICE_IP,
            "AWS Internal",
            req,
            read_only=True,
            extra={"sessionCredentialFromConsole": "true"},
        )
        _label_read(trail, name, event_id)
    elif roll < 0.45:
        name, req = r.choice(
            (
                (
                    "DescribeSecurityGroups",
                    {
                        "securityGroupSet": {},
                        "securityGroupIdSet": {"items": [{"groupId": r.choice(sorted(e.sg.values()))}]},
                        "filterSet": {},
                    },
                ),
                ("DescribeNetworkInterfaces", {"networkInterfaceIdSet": {}, "filterSet": {}}),
                ("DescribeSubnets", {"subnetSet": {}, "filterSet": {}}),
            )
        )
        event_id = trail.api_call(
            PROD,
            REGION,
            t,
            trail.config_role,
            "ec2.amazonaws.com",
            name,
            "config.amazonaws.com",
            "config.amazonaws.com",
            req,
            read_only=True,
        )
        _label_read(trail, name, event_id)
    elif roll < 0.6:
        inst = r.choice([x for x in e.enis.values() if x.account == PROD and x.instance_id != "-"])
        trail.api_call(
            PROD,
            REGION,
            t,
            "ec2.amazonaws.com",
            "sts.amazonaws.com",
            "AssumeRole",
            "ec2.amazonaws.com",
            "ec2.amazonaws.com",
            {"roleArn": f"arn:aws:iam::{PROD}:role/prod-ec2-ssm", "roleSessionName": inst.instance_id},
            {
                "credentials": {
                    "accessKeyId": "ASIA" + random_upper(r, 16),
                    "sessionToken": "IQoJb3JpZ2luX2VjE" + random_alnum(r, 40),
                    "expiration": iam_date(t + 6 * 3600),
                }
            },
            read_only=True,
            extra={
                "resources": [
                    {
                        "accountId": PROD,
                        "type": "AWS::IAM::Role",
                        "ARN": f"arn:aws:iam::{PROD}:role/prod-ec2-ssm",
                    }
                ]
            },
        )
    elif roll < 0.75:
        name, req = r.choice(
            (
                (
                    "GetBucketAcl",
                    {
                        "bucketName": "acme-prod-app-data",
                        "Host": "acme-prod-app-data.s3.amazonaws.com",
                        "acl": "",
                    },
                ),
                (
                    "GetBucketPolicy",
                    {
                        "bucketName": "acme-prod-app-data",
                        "Host": "acme-prod-app-data.s3.amazonaws.com",
                        "policy": "",
                    },
                ),
                ("ListBuckets", {"Host": "s3.amazonaws.com"}),
            )
        )
        event_id = trail.api_call(
            PROD,
            REGION,
            t,
            trail.users["svc-reporting"],
            "s3.amazonaws.com",
            name,
            PROD_NAT_IP,
            UA_BOTO,
            req,
            read_only=True,
            extra={
                "additionalEventData": {
                    "SignatureVersion": "SigV4",
                    "CipherSuite": "TLS_AES_128_GCM_SHA256",
                    "bytesTransferredIn": 0,
                    "AuthenticationMethod": "AuthHeader",
                    "x-amz-id-2": random_alnum(r, 56),
                    "bytesTransferredOut": 0,
                }
            },
        )
        _label_read(trail, name, event_id)
    elif roll < 0.85:
        name = r.choice(("ListUsers", "GetAccountSummary", "ListRoles", "GetAccountPasswordPolicy"))
        trail.api_call(
            PROD,
            REGION,
            t,
            trail.sso_dana,
            "iam.amazonaws.com",
            name,
            OFFICE_IP,
            "AWS Internal",
            None,
            read_only=True,
            extra={"sessionCredentialFromConsole": "true"},
        )
    elif roll < 0.95:
        trail.api_call(
            PROD,
            REGION,
            t,
            trail.users["svc-reporting"],
            "elasticloadbalancing.amazonaws.com",
            "DescribeTargetHealth",
            PROD_NAT_IP,
            UA_BOTO,
            {"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{PROD}:targetgroup/prod-web/6d0ecf831eec9f09"},
            read_only=True,
        )
    else:
        trail.api_call(
            PROD,
            REGION,
            t,
            trail.users["svc-reporting"],
            "sts.amazonaws.com",
            "GetCallerIdentity",
            PROD_NAT_IP,
            UA_BOTO,
            None,
            read_only=True,
        )


def _dev(trail: TrailRecorder) -> None:
    r = trail.rng
    req: dict[str, Any]
    for w in range(0, 86400, 300):
        load = HOURLY_LOAD[w // 3600]
        for _ in range(int(2.5 * load * r.uniform(0.5, 1.5))):
            t = trail.day0 + w + r.randrange(300)
            name, req = r.choice(
                (
                    ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                    ("DescribeVpcs", {"vpcSet": {}, "filterSet": {}}),
                    (
                        "DescribeSecurityGroups",
                        {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
                    ),
                )
            )
            event_id = trail.api_call(
                DEV,
                REGION,
                t,
                trail.dev_terraform,
                "ec2.amazonaws.com",
                name,
                OFFICE_IP,
                UA_TERRAFORM,
                req,
                read_only=True,
            )
            _label_read(trail, name, event_id)


def _eu(trail: TrailRecorder, stop: int, start: int) -> None:
    r = trail.rng
    req: dict[str, Any]
    for w in range(0, 86400, 900):
        t = trail.day0 + w + r.randrange(900)
        if stop <= t - trail.day0 <= start:
            continue  # the trail is multi-region, so stopping it silences eu-west-1 as well
        name, req = r.choice(
            (
                ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                ("DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
            )
        )
        trail.api_call(
            PROD,
            EU_REGION,
            t,
            trail.eu_monitor,
            "ec2.amazonaws.com",
            name,
            PROD_NAT_IP,
            UA_BOTO,
            req,
            read_only=True,
        )
    for hhmm in ("09:41:12", "09:41:13", "09:42:40"):
        # Denied, and a read of the bucket policy, not a change of it.
        event_id = trail.api_call(
            PROD,
            EU_REGION,
            trail.day0 + since_midnight(hhmm),
            trail.users["carol"],
            "s3.amazonaws.com",
            "GetBucketPolicy",
            CAROL_IP,
            UA_CLI.format(cmd="s3api.get-bucket-policy"),
            {
                "bucketName": "acme-prod-eu-backups",
                "Host": "acme-prod-eu-backups.s3.eu-west-1.amazonaws.com",
                "policy": "",
            },
            read_only=True,
            error=("AccessDenied", "Access Denied"),
        )
        trail.labels.expect(event_id, UNAUTHORIZED_API_CALLS)
        trail.labels.benign(event_id, S3_BUCKET_POLICY_CHANGED)
