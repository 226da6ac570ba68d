"""Findings for the change and sign-in rules that the rest of the day lacks: the Config recorder
stopped by the leaked key just before the trail, an old KMS key retired, a console password for
the support user, who signs in without MFA as he has no MFA device, a sandbox VPC with an
internet gateway in dev, and a Terraform apply that re-routes dev's private subnet and opens its
network ACL.

They draw from the labels' generator after the look-alikes, so the rest of the day's records stay
as they are; every one falls in a five-minute window of its account's us-east-1 trail that holds
other records anyway, so they add no log file.
"""

from __future__ import annotations

from typing import Any

from connector.demo.actors import (
    ALICE_HOME_IP,
    BOB_IP,
    BRUTE_FORCE_RDP,
    DAVE_IP,
    DEV,
    OFFICE_IP,
    PROD,
    REGION,
    SUPPORT_IP,
    UA_CLI,
    UA_TERRAFORM,
)
from connector.demo.aws_formats import cli_command, iam_date, since_midnight
from connector.demo.cloudtrail_records import Principal, TrailRecorder
from connector.demo.labels import (
    CONFIG_RECORDING_CHANGED,
    CONSOLE_LOGIN_FAILURE,
    CONSOLE_LOGIN_WITHOUT_MFA,
    IAM_POLICY_CHANGED,
    KMS_KEY_DISABLED,
    NETWORK_ACL_CHANGED,
    NETWORK_GATEWAY_CHANGED,
    ROOT_CONSOLE_LOGIN,
    ROUTE_TABLE_CHANGED,
    SIGN_IN_FROM_NEW_COUNTRY,
    VPC_CHANGED,
)
from connector.demo.random_ids import random_hex, random_uuid

SUPPORT_USER = "tmp-support"


def record_findings(trail: TrailRecorder, stop: int, start: int) -> None:
    """Record the findings and label each; the trail is stopped from `stop` to `start`."""
    _config_recorder_stopped(trail, stop, start)
    _support_password(trail)
    _old_key_retired(trail)
    _dev_sandbox_vpc(trail)
    _dev_terraform_network(trail)


def _call(trail: TrailRecorder, account: str, at: str | int, *call: Any, **options: Any) -> str:
    """One us-east-1 call at a wall-clock time or so many seconds into the day, with ids from the
    labels' generator; `call` and `options` as `TrailRecorder.api_call` takes them after the time,
    a write unless `read_only` says otherwise."""
    offset = since_midnight(at) if isinstance(at, str) else at
    options.setdefault("read_only", False)
    return trail.api_call(account, REGION, trail.day0 + offset, *call, planted=True, **options)


def _ec2_response(trail: TrailRecorder, **elements: Any) -> dict[str, Any]:
    """EC2's `responseElements`: the request id, then what the call returns."""
    return {"requestId": random_uuid(trail.labels.rng), **elements}


def _config_recorder_stopped(trail: TrailRecorder, stop: int, start: int) -> None:
    """Before it stops the trail, the leaked reporting key looks up and stops the Config recorder,
    so neither service records what follows; alice starts it again after the trail."""
    svc, ru, alice = trail.users["svc-reporting"], BRUTE_FORCE_RDP[0][0], trail.users["alice"]
    recorder = {"configurationRecorderName": "default"}
    for at, who, name, ip, request, finding in (
        (stop - 33, svc, "DescribeConfigurationRecorders", ru, None, False),
        (stop - 16, svc, "StopConfigurationRecorder", ru, recorder, True),
        # Starting the recorder again restores what the rule guards: no change it watches.
        (start + 49, alice, "StartConfigurationRecorder", ALICE_HOME_IP, recorder, False),
    ):
        event_id = _call(
            trail,
            PROD,
            at,
            who,
            "config.amazonaws.com",
            name,
            ip,
            UA_CLI.format(cmd=cli_command("configservice", name)),
            request,
            read_only=name.startswith("Describe"),
        )
        if finding:
            trail.labels.expect(event_id, CONFIG_RECORDING_CHANGED)
        else:
            trail.labels.benign(event_id, CONFIG_RECORDING_CHANGED)


def _support_password(trail: TrailRecorder) -> None:
    """bob gives the support user a console password; the support engineer signs in with it, and
    without MFA, since the user has no MFA device; alice removes the password before the user."""
    bob, alice = trail.users["bob"], trail.users["alice"]
    created = _call(
        trail,
        PROD,
        "15:13:30",
        bob,
        "iam.amazonaws.com",
        "CreateLoginProfile",
        BOB_IP,
        UA_CLI.format(cmd="iam.create-login-profile"),
        {"userName": SUPPORT_USER, "passwordResetRequired": False},
        {
            "loginProfile": {
                "userName": SUPPORT_USER,
                "createDate": iam_date(trail.day0 + since_midnight("15:13:30")),
                "passwordResetRequired": False,
            }
        },
    )
    support = Principal(
        {
            "type": "IAMUser",
            "principalId": trail.tmp_user_id,
            "arn": f"arn:aws:iam::{PROD}:user/{SUPPORT_USER}",
            "accountId": PROD,
            "accessKeyId": "",
            "userName": SUPPORT_USER,
        },
        SUPPORT_USER,
    )
    signed_in = trail.console_login(
        PROD, trail.day0 + since_midnight("15:21:48"), support, SUPPORT_IP, True, mfa=False, planted=True
    )
    trail.labels.expect(signed_in, CONSOLE_LOGIN_WITHOUT_MFA)
    trail.labels.benign(signed_in, CONSOLE_LOGIN_FAILURE, ROOT_CONSOLE_LOGIN)
    trail.labels.benign(SUPPORT_USER, SIGN_IN_FROM_NEW_COUNTRY)  # its first and only sign-in
    deleted = _call(
        trail,
        PROD,
        "17:29:51",
        alice,
        "iam.amazonaws.com",
        "DeleteLoginProfile",
        OFFICE_IP,
        UA_CLI.format(cmd="iam.delete-login-profile"),
        {"userName": SUPPORT_USER},
    )
    # Writes to IAM that change no policy.
    trail.labels.benign(created, IAM_POLICY_CHANGED)
    trail.labels.benign(deleted, IAM_POLICY_CHANGED)


def _old_key_retired(trail: TrailRecorder) -> None:
    """After turning on rotation of the backup key, alice retires the key of the old reporting
    exports: she disables it, then schedules its deletion in 30 days."""
    alice, key_id = trail.users["alice"], random_uuid(trail.labels.rng)
    arn = f"arn:aws:kms:{REGION}:{PROD}:key/{key_id}"
    resources = {"resources": [{"accountId": PROD, "type": "AWS::KMS::Key", "ARN": arn}]}
    disabled = _call(
        trail,
        PROD,
        "16:53:41",
        alice,
        "kms.amazonaws.com",
        "DisableKey",
        OFFICE_IP,
        UA_CLI.format(cmd="kms.disable-key"),
        {"keyId": key_id},
        extra=resources,
    )
    scheduled = _call(
        trail,
        PROD,
        "16:54:02",
        alice,
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        OFFICE_IP,
        UA_CLI.format(cmd="kms.schedule-key-deletion"),
        {"keyId": key_id, "pendingWindowInDays": 30},
        {
            "keyId": arn,
            "keyState": "PendingDeletion",
            "deletionDate": iam_date(trail.day0 + since_midnight("16:54:02") + 30 * 86400),
            "pendingWindowInDays": 30,
        },
        extra=resources,
    )
    trail.labels.expect(disabled, KMS_KEY_DISABLED)
    trail.labels.expect(scheduled, KMS_KEY_DISABLED)


def _dev_sandbox_vpc(trail: TrailRecorder) -> None:
    """Soon after signing in, dave builds a sandbox VPC in the dev console: DNS host names on, an
    internet gateway attached, and a route table whose default route leads to it."""
    r, dave = trail.labels.rng, trail.users["dave"]
    vpc, cidr = "vpc-" + random_hex(r, 17), "10.2.0.0/16"
    igw, rtb = "igw-" + random_hex(r, 17), "rtb-" + random_hex(r, 17)
    console = {"sessionCredentialFromConsole": "true"}

    def tags(resource: str, name: str) -> dict[str, Any]:
        return {"items": [{"resourceType": resource, "tags": [{"key": "Name", "value": name}]}]}

    def call(hhmmss: str, name: str, request: Any, response: Any) -> str:
        return _call(
            trail,
            DEV,
            hhmmss,
            dave,
            "ec2.amazonaws.com",
            name,
            DAVE_IP,
            "AWS Internal",
            request,
            response,
            extra=console,
        )

    created_vpc = call(
        "09:24:06",
        "CreateVpc",
        {
            "cidrBlock": cidr,
            "instanceTenancy": "default",
            "amazonProvidedIpv6CidrBlock": False,
            "tagSpecificationSet": tags("vpc", "dave-sandbox-vpc"),
        },
        _ec2_response(
            trail,
            vpc={
                "vpcId": vpc,
                "state": "pending",
                "ownerId": DEV,
                "cidrBlock": cidr,
                "cidrBlockAssociationSet": {
                    "items": [
                        {
                            "cidrBlock": cidr,
                            "associationId": "vpc-cidr-assoc-" + random_hex(r, 17),
                            "cidrBlockState": {"state": "associated"},
                        }
                    ]
                },
                "ipv6CidrBlockAssociationSet": {},
                "dhcpOptionsId": "dopt-" + random_hex(r, 17),
                "instanceTenancy": "default",
                "tagSet": {"items": [{"key": "Name", "value": "dave-sandbox-vpc"}]},
                "isDefault": False,
            },
        ),
    )
    dns_names = call(
        "09:24:07",
        "ModifyVpcAttribute",
        {"vpcId": vpc, "enableDnsHostnames": {"value": True}},
        _ec2_response(trail, _return=True),
    )
    created_igw = call(
        "09:24:08",
        "CreateInternetGateway",
        {"tagSpecificationSet": tags("internet-gateway", "dave-sandbox-igw")},
        _ec2_response(
            trail,
            internetGateway={
                "internetGatewayId": igw,
                "ownerId": DEV,
                "attachmentSet": {},
                "tagSet": {"items": [{"key": "Name", "value": "dave-sandbox-igw"}]},
            },
        ),
    )
    attached = call(
        "09:24:09",
        "AttachInternetGateway",
        {"internetGatewayId": igw, "vpcId": vpc},
        _ec2_response(trail, _return=True),
    )
    created_rtb = call(
        "09:24:10",
        "CreateRouteTable",
        {"vpcId": vpc, "tagSpecificationSet": tags("route-table", "dave-sandbox-rtb-public")},
        _ec2_response(
            trail,
            routeTable={
                "routeTableId": rtb,
                "vpcId": vpc,
                "ownerId": DEV,
                "routeSet": {
                    "items": [
                        {
                            "destinationCidrBlock": cidr,
                            "gatewayId": "local",
                            "state": "active",
                            "origin": "CreateRouteTable",
                        }
                    ]
                },
                "associationSet": {},
                "propagatingVgwSet": {},
                "tagSet": {"items": [{"key": "Name", "value": "dave-sandbox-rtb-public"}]},
            },
        ),
    )
    default_route = call(
        "09:24:11",
        "CreateRoute",
        {"routeTableId": rtb, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw},
        _ec2_response(trail, _return=True),
    )
    for event_id, rule in (
        (created_vpc, VPC_CHANGED),
        (dns_names, VPC_CHANGED),
        (created_igw, NETWORK_GATEWAY_CHANGED),
        (attached, NETWORK_GATEWAY_CHANGED),
        (created_rtb, ROUTE_TABLE_CHANGED),
        (default_route, ROUTE_TABLE_CHANGED),
    ):
        trail.labels.expect(event_id, rule)


def _dev_terraform_network(trail: TrailRecorder) -> None:
    """The Terraform apply that launches dev's new instance first reads the private subnet's route
    table and network ACL, sends its default route to the NAT gateway and lets the jump host's
    subnet reach port 8080."""
    r, terraform = trail.labels.rng, trail.dev_terraform
    rtb, acl, nat = "rtb-" + random_hex(r, 17), "acl-" + random_hex(r, 17), "nat-" + random_hex(r, 17)

    def call(hhmmss: str, name: str, request: Any, response: Any = None, *, read_only: bool = False) -> str:
        return _call(
            trail,
            DEV,
            hhmmss,
            terraform,
            "ec2.amazonaws.com",
            name,
            OFFICE_IP,
            UA_TERRAFORM,
            request,
            response,
            read_only=read_only,
        )

    read_routes = call(
        "11:30:31",
        "DescribeRouteTables",
        {"routeTableIdSet": {"items": [{"routeTableId": rtb}]}, "filterSet": {}},
        read_only=True,
    )
    read_acl = call(
        "11:30:31",
        "DescribeNetworkAcls",
        {"networkAclIdSet": {"items": [{"networkAclId": acl}]}, "filterSet": {}},
        read_only=True,
    )
    replaced = call(
        "11:30:36",
        "ReplaceRoute",
        {"routeTableId": rtb, "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": nat},
        _ec2_response(trail, _return=True),
    )
    entry = call(
        "11:30:37",
        "CreateNetworkAclEntry",
        {
            "networkAclId": acl,
            "ruleNumber": 110,
            "egress": False,
            "ruleAction": "allow",
            "icmpTypeCode": {},
            "portRange": {"from": 8080, "to": 8080},
            "aclProtocol": "6",
            "cidrBlock": trail.estate.subnets["dev-public-a"][2],
        },
        _ec2_response(trail, _return=True),
    )
    trail.labels.benign(read_routes, ROUTE_TABLE_CHANGED)
    trail.labels.benign(read_acl, NETWORK_ACL_CHANGED)
    trail.labels.expect(replaced, ROUTE_TABLE_CHANGED)
    trail.labels.expect(entry, NETWORK_ACL_CHANGED)
