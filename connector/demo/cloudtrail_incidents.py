"""The incidents planted among the day's CloudTrail events, which the detections must find.

One job, so one module: a list of scenarios in a fixed order, long because each call is spelled
out as AWS records it. The order matters, since every scenario draws from the shared generator
(the last, added for the labels alone, from the labels' generator). Each record is labeled as it
is made: a finding a detection must report, or a look-alike it must pass over.
"""

from __future__ import annotations

from connector.demo.actors import (
    ALICE_ABROAD_IP,
    ALICE_HOME_IP,
    BOB_IP,
    BRUTE_FORCE_RDP,
    BRUTE_FORCE_SSH,
    CAROL_IP,
    CI_RUNNER_IP,
    DAVE_IP,
    DEV,
    OFFICE_IP,
    PROD,
    REGION,
    TRAIL_NAME,
    UA_BOTO,
    UA_BROWSER_WIN,
    UA_CLI,
    UA_TERRAFORM,
)
from connector.demo.aws_formats import cli_command, iam_date, since_midnight
from connector.demo.cloudtrail_records import TrailRecorder
from connector.demo.labels import (
    CONSOLE_LOGIN_FAILURE,
    CONSOLE_LOGIN_WITHOUT_MFA,
    IAM_ACCESS_KEY_CREATED,
    IAM_POLICY_CHANGED,
    ROOT_ACCOUNT_USAGE,
    ROOT_CONSOLE_LOGIN,
    S3_BUCKET_POLICY_CHANGED,
    SECURITY_GROUP_CHANGED,
    SECURITY_GROUP_OPENED_TO_INTERNET,
    SIGN_IN_FROM_NEW_COUNTRY,
    TRAIL_LOGGING_STOPPED,
    UNAUTHORIZED_API_CALLS,
)
from connector.demo.random_ids import random_alnum, random_hex, random_uuid


def record_incidents(trail: TrailRecorder, stop: int, start: int) -> None:
    """Record the day's incidents; the trail is stopped from `stop` to `start` (seconds into the day)."""
    _leaked_key(trail, stop, start)
    _password_guessing(trail)
    _sign_ins(trail)
    _public_bucket(trail)
    _denied_terminate(trail)
    _ssh_opened(trail)
    _support_user(trail)
    _dev_launches(trail)
    _sign_in_from_abroad(trail)


def _leaked_key(trail: TrailRecorder, stop: int, start: int) -> None:
    """A leaked reporting key used from abroad: reconnaissance, denied secrets, the trail stopped; then the
    response (trail restarted, key deactivated)."""
    d0, svc, alice = trail.day0, trail.users["svc-reporting"], trail.users["alice"]
    ru = BRUTE_FORCE_RDP[0][0]
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{PROD}:trail/{TRAIL_NAME}"
    trail.api_call(
        PROD,
        REGION,
        d0 + stop - 190,
        svc,
        "sts.amazonaws.com",
        "GetCallerIdentity",
        ru,
        UA_CLI.format(cmd="sts.get-caller-identity"),
        None,
        read_only=True,
    )
    for i in range(5):
        denied = trail.api_call(
            PROD,
            REGION,
            d0 + stop - 150 + i * 7,
            svc,
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            ru,
            UA_CLI.format(cmd="secretsmanager.get-secret-value"),
            {"secretId": f"prod/db/{('mysql', 'postgres', 'redis', 'api', 'stripe')[i]}"},
            read_only=True,
            error=(
                "AccessDenied" + "Exception",
                f"User: arn:aws:iam::{PROD}:user/svc-reporting is not authorized to perform: "
                "secretsmanager:GetSecretValue because no identity-based policy allows the "
                "secretsmanager:GetSecretValue action",
            ),
        )
        trail.labels.expect(denied, UNAUTHORIZED_API_CALLS)
    described = trail.api_call(
        PROD,
        REGION,
        d0 + stop - 40,
        svc,
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        ru,
        UA_CLI.format(cmd="cloudtrail.describe-trails"),
        {"includeShadowTrails": True},
        read_only=True,
    )
    trail.labels.benign(described, TRAIL_LOGGING_STOPPED)
    stopped = trail.api_call(
        PROD,
        REGION,
        d0 + stop,
        svc,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        ru,
        UA_CLI.format(cmd="cloudtrail.stop-logging"),
        {"name": trail_arn},
        read_only=False,
        tag="StopLogging",
    )
    trail.labels.expect(stopped, TRAIL_LOGGING_STOPPED)
    restarted = trail.api_call(
        PROD,
        REGION,
        d0 + start,
        alice,
        "cloudtrail.amazonaws.com",
        "StartLogging",
        ALICE_HOME_IP,
        UA_CLI.format(cmd="cloudtrail.start-logging"),
        {"name": trail_arn},
        read_only=False,
        tag="StartLogging",
    )
    trail.labels.benign(restarted, TRAIL_LOGGING_STOPPED)
    deactivated = trail.api_call(
        PROD,
        REGION,
        d0 + start + 95,
        alice,
        "iam.amazonaws.com",
        "UpdateAccessKey",
        ALICE_HOME_IP,
        UA_CLI.format(cmd="iam.update-access-key"),
        {"userName": "svc-reporting", "accessKeyId": svc.identity["accessKeyId"], "status": "Inactive"},
        read_only=False,
    )
    trail.labels.benign(deactivated, IAM_POLICY_CHANGED, IAM_ACCESS_KEY_CREATED)


def _password_guessing(trail: TrailRecorder) -> None:
    """Password guessing against the console, from the addresses that also attack SSH and RDP."""
    r, d0, svc, alice = trail.rng, trail.day0, trail.users["svc-reporting"], trail.users["alice"]
    cn, ru, br = BRUTE_FORCE_SSH[0][0], BRUTE_FORCE_RDP[0][0], BRUTE_FORCE_SSH[1][0]
    failed = []
    for i in range(6):
        failed.append(
            trail.console_login(
                PROD, d0 + since_midnight("03:12:00") + i * 41 + r.randrange(20), alice, cn, False, mfa=False
            )
        )
    for i in range(3):
        failed.append(
            trail.console_login(
                PROD, d0 + since_midnight("03:31:10") + i * 23, alice, cn, False, mfa=False, unknown_user=True
            )
        )
    for i in range(4):
        failed.append(
            trail.console_login(
                PROD, d0 + since_midnight("04:20:05") + i * 57, alice, ru, False, mfa=False, agent=UA_BROWSER_WIN
            )
        )
    for i in range(3):
        failed.append(trail.console_login(PROD, d0 + since_midnight("11:20:30") + i * 33, svc, br, False, mfa=False))
    for event_id in failed:
        _failed_sign_in(trail, event_id)


def _failed_sign_in(trail: TrailRecorder, event_id: str) -> None:
    """A failed sign-in; CloudTrail writes MFAUsed "No" for it, yet it is no sign-in without MFA."""
    trail.labels.expect(event_id, CONSOLE_LOGIN_FAILURE)
    trail.labels.benign(event_id, CONSOLE_LOGIN_WITHOUT_MFA)


def _signed_in(trail: TrailRecorder, event_id: str) -> None:
    """A successful sign-in with MFA."""
    trail.labels.benign(event_id, CONSOLE_LOGIN_FAILURE, CONSOLE_LOGIN_WITHOUT_MFA)


def _sign_ins(trail: TrailRecorder) -> None:
    """The working day's sign-ins, one of them the root user."""
    d0, alice, bob, carol = trail.day0, trail.users["alice"], trail.users["bob"], trail.users["carol"]
    root = trail.console_login(PROD, d0 + since_midnight("07:45:12"), trail.root, OFFICE_IP, True)
    trail.labels.expect(root, ROOT_CONSOLE_LOGIN, ROOT_ACCOUNT_USAGE)
    _signed_in(trail, root)
    # The root user's console calls are root activity, but no console login.
    summary = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("07:46:03"),
        trail.root,
        "iam.amazonaws.com",
        "GetAccountSummary",
        OFFICE_IP,
        "AWS Internal",
        None,
        read_only=True,
        extra={"sessionCredentialFromConsole": "true"},
    )
    mfa_devices = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("07:47:30"),
        trail.root,
        "iam.amazonaws.com",
        "ListMFADevices",
        OFFICE_IP,
        "AWS Internal",
        None,
        read_only=True,
        extra={"sessionCredentialFromConsole": "true"},
    )
    for event_id in (summary, mfa_devices):
        trail.labels.benign(event_id, ROOT_CONSOLE_LOGIN)
        trail.labels.expect(event_id, ROOT_ACCOUNT_USAGE)
    alice_in = trail.console_login(PROD, d0 + since_midnight("08:02:44"), alice, OFFICE_IP, True)
    _failed_sign_in(trail, trail.console_login(PROD, d0 + since_midnight("08:55:01"), bob, BOB_IP, False, mfa=False))
    _failed_sign_in(trail, trail.console_login(PROD, d0 + since_midnight("08:55:40"), bob, BOB_IP, False, mfa=False))
    bob_in = trail.console_login(PROD, d0 + since_midnight("08:56:12"), bob, BOB_IP, True)
    carol_in = trail.console_login(PROD, d0 + since_midnight("09:30:27"), carol, CAROL_IP, True, agent=UA_BROWSER_WIN)
    dave = trail.users["dave"]
    _failed_sign_in(trail, trail.console_login(DEV, d0 + since_midnight("09:08:19"), dave, DAVE_IP, False, mfa=False))
    dave_in = trail.console_login(DEV, d0 + since_midnight("09:10:02"), dave, DAVE_IP, True)
    for event_id in (alice_in, bob_in, carol_in, dave_in):
        _signed_in(trail, event_id)
        trail.labels.benign(event_id, ROOT_CONSOLE_LOGIN)
    # Users who sign in from one country only; root's sign-in is its first and only one.
    for user in ("root", "bob", "carol", "dave"):
        trail.labels.benign(user, SIGN_IN_FROM_NEW_COUNTRY)


def _public_bucket(trail: TrailRecorder) -> None:
    """A marketing bucket made world-readable."""
    d0, carol = trail.day0, trail.users["carol"]
    made_public = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("10:15:22"),
        carol,
        "s3.amazonaws.com",
        "PutBucketAcl",
        CAROL_IP,
        "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]",
        {
            "bucketName": "acme-prod-marketing-assets",
            "Host": "acme-prod-marketing-assets.s3.amazonaws.com",
            "acl": "",
            "x-amz-acl": ["public-read"],
        },
        read_only=False,
        tag="PutBucketAcl",
    )
    trail.labels.expect(made_public, S3_BUCKET_POLICY_CHANGED)


def _denied_terminate(trail: TrailRecorder) -> None:
    """The same user then tries to terminate a prod instance she has no rights on."""
    r, e, d0, carol = trail.rng, trail.estate, trail.day0, trail.users["carol"]
    denied = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("10:31:05"),
        carol,
        "ec2.amazonaws.com",
        "TerminateInstances",
        CAROL_IP,
        "AWS Internal",
        {"instancesSet": {"items": [{"instanceId": e.enis["batch"].instance_id}]}},
        read_only=False,
        error=(
            "Client.UnauthorizedOperation",
            "You are not authorized to perform this operation. User: "
            f"arn:aws:iam::{PROD}:user/carol is not authorized to perform: ec2:TerminateInstances "
            "on resource: "
            f"arn:aws:ec2:{REGION}:{PROD}:instance/{e.enis['batch'].instance_id} "
            "because no identity-based "
            "policy allows the ec2:TerminateInstances action. Encoded authorization failure message: "
            + random_alnum(r, 64),
        ),
    )
    trail.labels.expect(denied, UNAUTHORIZED_API_CALLS)


def _ssh_opened(trail: TrailRecorder) -> None:
    """SSH opened to the world on the bastion while debugging, and closed again later."""
    r, e, d0, alice, bob = trail.rng, trail.estate, trail.day0, trail.users["alice"], trail.users["bob"]
    created = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("14:01:37"),
        bob,
        "ec2.amazonaws.com",
        "CreateSecurityGroup",
        BOB_IP,
        "AWS Internal",
        {"groupName": "temp-debug-sg", "groupDescription": "temporary debugging", "vpcId": e.prod_vpc},
        {"requestId": random_uuid(trail.rng), "_return": True, "groupId": trail.debug_sg},
        read_only=False,
        tag="CreateSecurityGroup",
    )
    opened = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("14:03:02"),
        bob,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        BOB_IP,
        "AWS Internal",
        {
            "groupId": e.sg["bastion-sg"],
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "groups": {},
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "debug"}]},
                        "ipv6Ranges": {},
                        "prefixListIds": {},
                    }
                ]
            },
        },
        {
            "requestId": random_uuid(trail.rng),
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupOwnerId": PROD,
                        "groupId": e.sg["bastion-sg"],
                        "securityGroupRuleId": trail.sgr_ssh,
                        "description": "debug",
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "cidrIpv4": "0.0.0.0/0",
                    }
                ]
            },
        },
        read_only=False,
        tag="AuthorizeSecurityGroupIngress",
    )
    debug_rule = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("14:04:11"),
        bob,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        BOB_IP,
        "AWS Internal",
        {
            "groupId": trail.debug_sg,
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 8080,
                        "toPort": 8080,
                        "groups": {},
                        "ipRanges": {"items": [{"cidrIp": "10.0.0.0/16"}]},
                        "ipv6Ranges": {},
                        "prefixListIds": {},
                    }
                ]
            },
        },
        {
            "requestId": random_uuid(trail.rng),
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupOwnerId": PROD,
                        "groupId": trail.debug_sg,
                        "securityGroupRuleId": "sgr-" + random_hex(r, 17),
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": 8080,
                        "toPort": 8080,
                        "cidrIpv4": "10.0.0.0/16",
                    }
                ]
            },
        },
        read_only=False,
        tag="AuthorizeDebug",
    )
    revoked = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("16:40:18"),
        alice,
        "ec2.amazonaws.com",
        "RevokeSecurityGroupIngress",
        OFFICE_IP,
        UA_CLI.format(cmd="ec2.revoke-security-group-ingress"),
        {
            "groupId": e.sg["bastion-sg"],
            "securityGroupRuleIds": {"items": [{"securityGroupRuleId": trail.sgr_ssh}]},
        },
        {"requestId": random_uuid(trail.rng), "_return": True},
        read_only=False,
        tag="RevokeSecurityGroupIngress",
    )
    deleted = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("16:45:50"),
        alice,
        "ec2.amazonaws.com",
        "DeleteSecurityGroup",
        OFFICE_IP,
        UA_CLI.format(cmd="ec2.delete-security-group"),
        {"groupId": trail.debug_sg},
        {"requestId": random_uuid(trail.rng), "_return": True},
        read_only=False,
        tag="DeleteSecurityGroup",
    )
    for event_id in (created, opened, debug_rule, revoked, deleted):
        trail.labels.expect(event_id, SECURITY_GROUP_CHANGED)
    trail.labels.expect(opened, SECURITY_GROUP_OPENED_TO_INTERNET)
    # Opened to the VPC's own addresses only, and the world rule's removal.
    trail.labels.benign(debug_rule, SECURITY_GROUP_OPENED_TO_INTERNET)
    trail.labels.benign(revoked, SECURITY_GROUP_OPENED_TO_INTERNET)


def _support_user(trail: TrailRecorder) -> None:
    """A support user with administrator rights, created and removed the same day."""
    d0, alice, bob = trail.day0, trail.users["alice"], trail.users["bob"]
    user = "tmp-support"
    arn = f"arn:aws:iam::{PROD}:user/{user}"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    cli = UA_CLI.format
    created = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("15:10:12"),
        bob,
        "iam.amazonaws.com",
        "CreateUser",
        BOB_IP,
        cli(cmd="iam.create-user"),
        {"userName": user},
        {
            "user": {
                "path": "/",
                "userName": user,
                "userId": trail.tmp_user_id,
                "arn": arn,
                "createDate": iam_date(d0 + since_midnight("15:10:12")),
            }
        },
        read_only=False,
        tag="CreateUser",
    )
    attached = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("15:11:03"),
        bob,
        "iam.amazonaws.com",
        "AttachUserPolicy",
        BOB_IP,
        cli(cmd="iam.attach-user-policy"),
        {"userName": user, "policyArn": admin},
        read_only=False,
        tag="AttachUserPolicy",
    )
    key_created = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("15:12:40"),
        bob,
        "iam.amazonaws.com",
        "CreateAccessKey",
        BOB_IP,
        cli(cmd="iam.create-access-key"),
        {"userName": user},
        {
            "accessKey": {
                "userName": user,
                "accessKeyId": trail.tmp_key,
                "status": "Active",
                "createDate": iam_date(d0 + since_midnight("15:12:40")),
            }
        },
        read_only=False,
        tag="CreateAccessKey",
    )
    policy = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}'
    put_policy = trail.api_call(
        PROD,
        REGION,
        d0 + since_midnight("15:14:21"),
        bob,
        "iam.amazonaws.com",
        "PutUserPolicy",
        BOB_IP,
        cli(cmd="iam.put-user-policy"),
        {"userName": user, "policyName": "support-s3", "policyDocument": policy},
        read_only=False,
        tag="PutUserPolicy",
    )
    trail.labels.expect(attached, IAM_POLICY_CHANGED)
    trail.labels.expect(put_policy, IAM_POLICY_CHANGED)
    # Writes to IAM that change no policy.
    trail.labels.benign(created, IAM_POLICY_CHANGED)
    trail.labels.benign(key_created, IAM_POLICY_CHANGED)
    trail.labels.expect(key_created, IAM_ACCESS_KEY_CREATED)
    for hhmm, name, req, changes_policy in (
        ("17:30:02", "DeleteAccessKey", {"userName": user, "accessKeyId": trail.tmp_key}, False),
        ("17:30:09", "DetachUserPolicy", {"userName": user, "policyArn": admin}, True),
        ("17:30:15", "DeleteUserPolicy", {"userName": user, "policyName": "support-s3"}, True),
        ("17:30:22", "DeleteUser", {"userName": user}, False),
    ):
        event_id = trail.api_call(
            PROD,
            REGION,
            d0 + since_midnight(hhmm),
            alice,
            "iam.amazonaws.com",
            name,
            OFFICE_IP,
            cli(cmd=cli_command("iam", name)),
            req,
            read_only=False,
            tag=name,
        )
        if changes_policy:
            trail.labels.expect(event_id, IAM_POLICY_CHANGED)
        else:
            trail.labels.benign(event_id, IAM_POLICY_CHANGED)
        if name == "DeleteAccessKey":
            trail.labels.benign(event_id, IAM_ACCESS_KEY_CREATED)


def _dev_launches(trail: TrailRecorder) -> None:
    """Dev: a CI role without launch rights retries in a loop (the Insights event), then Terraform works."""
    r, e, d0 = trail.rng, trail.estate, trail.day0
    for i in range(42):
        denied = trail.api_call(
            DEV,
            REGION,
            d0 + since_midnight("10:00:05") + i * 14,
            trail.dev_ci,
            "ec2.amazonaws.com",
            "RunInstances",
            CI_RUNNER_IP,
            UA_BOTO,
            {
                "instancesSet": {"items": [{"imageId": "ami-0fff1b9a61dec8a5f", "minCount": 1, "maxCount": 1}]},
                "instanceType": "m5.large",
            },
            read_only=False,
            error=(
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation. "
                "Encoded authorization failure message: " + random_alnum(r, 48),
            ),
        )
        trail.labels.expect(denied, UNAUTHORIZED_API_CALLS)
    launch = d0 + since_midnight("11:30:44")
    launched = trail.api_call(
        DEV,
        REGION,
        launch,
        trail.dev_terraform,
        "ec2.amazonaws.com",
        "RunInstances",
        OFFICE_IP,
        UA_TERRAFORM,
        {
            "instancesSet": {"items": [{"imageId": "ami-0fff1b9a61dec8a5f", "minCount": 1, "maxCount": 1}]},
            "instanceType": "t3.small",
            "subnetId": e.subnets["dev-private-a"][0],
        },
        {
            "requestId": random_uuid(trail.rng),
            "reservationId": "r-" + random_hex(r, 17),
            "ownerId": DEV,
            "instancesSet": {
                "items": [
                    {
                        "instanceId": trail.new_dev_instance,
                        "imageId": "ami-0fff1b9a61dec8a5f",
                        "instanceState": {"code": 0, "name": "pending"},
                        "privateIpAddress": "10.1.10.31",
                        "instanceType": "t3.small",
                        "launchTime": launch * 1000,
                    }
                ]
            },
        },
        read_only=False,
        tag="RunInstances",
    )
    trail.labels.benign(launched, UNAUTHORIZED_API_CALLS)  # the same call, allowed
    trail.api_call(
        DEV,
        REGION,
        d0 + since_midnight("18:00:30"),
        trail.dev_terraform,
        "ec2.amazonaws.com",
        "TerminateInstances",
        OFFICE_IP,
        UA_TERRAFORM,
        {"instancesSet": {"items": [{"instanceId": trail.new_dev_instance}]}},
        {
            "requestId": random_uuid(trail.rng),
            "instancesSet": {
                "items": [
                    {
                        "instanceId": trail.new_dev_instance,
                        "currentState": {"code": 32, "name": "shutting-down"},
                        "previousState": {"code": 16, "name": "running"},
                    }
                ]
            },
        },
        read_only=False,
        tag="TerminateInstances",
    )


def _sign_in_from_abroad(trail: TrailRecorder) -> None:
    """In the evening alice signs in from a country none of her sign-ins came from before. Added
    for the labels alone, so it draws from the labels' generator."""
    event_id = trail.console_login(
        PROD, trail.day0 + since_midnight("21:47:13"), trail.users["alice"], ALICE_ABROAD_IP, True, planted=True
    )
    _signed_in(trail, event_id)
    trail.labels.benign(event_id, ROOT_CONSOLE_LOGIN)
    trail.labels.expect("alice", SIGN_IN_FROM_NEW_COUNTRY)
