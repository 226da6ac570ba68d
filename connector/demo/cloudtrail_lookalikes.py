"""Calls that resemble what a detection looks for but must not alert: reads of what the CIS
change rules watch, a throttled call, a change to a key that disables nothing, a second
sign-in from a country the user signed in from before, and a call Elastic Load Balancing makes
as the root user.

They draw from the labels' generator, so the rest of the day's records stay as they are (the
load balancer's call last, after the findings); all fall in five-minute windows of prod's
us-east-1 trail that hold routine calls anyway, so they add no log file.
"""

from __future__ import annotations

from typing import Any

from connector.demo.actors import BOB_IP, OFFICE_IP, PROD, REGION, UA_CLI
from connector.demo.aws_formats import since_midnight
from connector.demo.cloudtrail_records import Principal, TrailRecorder
from connector.demo.labels import (
    CONFIG_RECORDING_CHANGED,
    CONSOLE_LOGIN_FAILURE,
    CONSOLE_LOGIN_WITHOUT_MFA,
    KMS_KEY_DISABLED,
    NETWORK_ACL_CHANGED,
    NETWORK_GATEWAY_CHANGED,
    ROOT_ACCOUNT_USAGE,
    ROOT_CONSOLE_LOGIN,
    ROUTE_TABLE_CHANGED,
    TRAIL_LOGGING_STOPPED,
    UNAUTHORIZED_API_CALLS,
)
from connector.demo.random_ids import random_uuid


def record_lookalikes(trail: TrailRecorder) -> None:
    """Record the look-alikes and label each for the detections it must not set off."""
    backup_key = f"arn:aws:kms:{REGION}:{PROD}:key/{random_uuid(trail.labels.rng)}"
    _second_sign_in(trail)
    _console_reads(trail, backup_key)
    _event_history_throttled(trail)
    _key_rotation(trail, backup_key)


def _second_sign_in(trail: TrailRecorder) -> None:
    """bob signs in again in the afternoon, from Germany as in the morning."""
    event_id = trail.console_login(
        PROD, trail.day0 + since_midnight("13:52:08"), trail.users["bob"], BOB_IP, True, planted=True
    )
    trail.labels.benign(event_id, CONSOLE_LOGIN_FAILURE, CONSOLE_LOGIN_WITHOUT_MFA, ROOT_CONSOLE_LOGIN)


def _auditor_reads(trail: TrailRecorder, hhmmss: str, source: str, name: str, request: Any) -> str:
    """One read-only call by the SSO auditor in the console, from the office."""
    return trail.api_call(
        PROD,
        REGION,
        trail.day0 + since_midnight(hhmmss),
        trail.sso_dana,
        source,
        name,
        OFFICE_IP,
        "AWS Internal",
        request,
        read_only=True,
        extra={"sessionCredentialFromConsole": "true"},
        planted=True,
    )


def _console_reads(trail: TrailRecorder, backup_key: str) -> None:
    """The read-only auditor reviews the network, Config and KMS setup in the console."""
    for hhmmss, source, name, request, rule in (
        (
            "10:40:11",
            "config.amazonaws.com",
            "DescribeConfigurationRecorderStatus",
            None,
            CONFIG_RECORDING_CHANGED,
        ),
        ("10:40:12", "config.amazonaws.com", "DescribeDeliveryChannels", None, CONFIG_RECORDING_CHANGED),
        (
            "10:41:37",
            "ec2.amazonaws.com",
            "DescribeRouteTables",
            {"routeTableIdSet": {}, "filterSet": {}},
            ROUTE_TABLE_CHANGED,
        ),
        (
            "10:41:52",
            "ec2.amazonaws.com",
            "DescribeNetworkAcls",
            {"networkAclIdSet": {}, "filterSet": {}},
            NETWORK_ACL_CHANGED,
        ),
        (
            "10:42:05",
            "ec2.amazonaws.com",
            "DescribeInternetGateways",
            {"internetGatewayIdSet": {}, "filterSet": {}},
            NETWORK_GATEWAY_CHANGED,
        ),
        ("10:43:20", "kms.amazonaws.com", "DescribeKey", {"keyId": backup_key}, KMS_KEY_DISABLED),
    ):
        trail.labels.benign(_auditor_reads(trail, hhmmss, source, name, request), rule)


def _event_history_throttled(trail: TrailRecorder) -> None:
    """The auditor looks up the night's StopLogging in the event history; CloudTrail allows two
    lookups a second, so the first two are throttled: an error, but no refusal of a permission."""
    request = {
        "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "StopLogging"}],
        "maxResults": 50,
    }
    throttled = ("ThrottlingException", "Rate exceeded")
    for hhmmss, error in (("10:46:01", throttled), ("10:46:01", throttled), ("10:46:04", None)):
        event_id = trail.api_call(
            PROD,
            REGION,
            trail.day0 + since_midnight(hhmmss),
            trail.sso_dana,
            "cloudtrail.amazonaws.com",
            "LookupEvents",
            OFFICE_IP,
            "AWS Internal",
            request,
            read_only=True,
            error=error,
            extra={"sessionCredentialFromConsole": "true"},
            planted=True,
        )
        trail.labels.benign(event_id, TRAIL_LOGGING_STOPPED, UNAUTHORIZED_API_CALLS)


def _key_rotation(trail: TrailRecorder, backup_key: str) -> None:
    """alice turns on yearly rotation of the backup key: a change to a key, which disables nothing."""
    event_id = trail.api_call(
        PROD,
        REGION,
        trail.day0 + since_midnight("16:52:30"),
        trail.users["alice"],
        "kms.amazonaws.com",
        "EnableKeyRotation",
        OFFICE_IP,
        UA_CLI.format(cmd="kms.enable-key-rotation"),
        {"keyId": backup_key},
        read_only=False,
        planted=True,
    )
    trail.labels.benign(event_id, KMS_KEY_DISABLED)


def record_load_balancer_as_root(trail: TrailRecorder) -> None:
    """After the midday peak, Elastic Load Balancing tries to remove one of the web load balancer's
    network interfaces, which still carries traffic. The service acts as the account's root user
    and CloudTrail names it in `invokedBy`: root's identity, but no use of root by a person.
    Recorded after the findings, so their ids stay as they were."""
    service = "elasticloadbalancing.amazonaws.com"
    identity = {key: value for key, value in trail.root.identity.items() if key != "accessKeyId"}
    eni = trail.estate.enis["alb-a"].eni_id
    event_id = trail.api_call(
        PROD,
        REGION,
        trail.day0 + since_midnight("13:36:44"),
        Principal({**identity, "invokedBy": service}, "root"),
        "ec2.amazonaws.com",
        "DeleteNetworkInterface",
        service,
        service,
        {"networkInterfaceId": eni},
        read_only=False,
        error=("Client.InvalidNetworkInterface.InUse", f"Network interface '{eni}' is currently in use."),
        planted=True,
    )
    # An error, but no refusal of a permission.
    trail.labels.benign(event_id, ROOT_ACCOUNT_USAGE, UNAUTHORIZED_API_CALLS)
