"""The configuration items AWS Config records as the day's incidents change resources, each
linked to the CloudTrail events behind the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.demo.actors import DEV, EU_REGION, OFFICE_IP, PROD, REGION
from connector.demo.aws_formats import since_midnight
from connector.demo.config_items import ConfigItemBuilder


@dataclass(frozen=True)
class ConfigChanges:
    """The day's items as (account, file region, item), and the restricted-ssh violation among them."""

    items: list[tuple[str, str, dict[str, Any]]]
    ssh_violation: dict[str, Any]


def day_changes(build: ConfigItemBuilder, event_ids: dict[str, str], debug_sg: str, new_instance: str) -> ConfigChanges:
    """What Config records of the day's changes; `event_ids` maps scenario tags to CloudTrail event ids."""
    e, ids, d0 = build.estate, event_ids, build.day0
    office = f"{OFFICE_IP}/32"
    bastion, debug = e.sg["bastion-sg"], debug_sg
    h: list[tuple[str, str, dict[str, Any]]] = []
    h.append(
        (
            PROD,
            REGION,
            build.security_group(
                d0 + since_midnight("14:02:10"),
                "ResourceDiscovered",
                "temp-debug-sg",
                debug,
                [],
                [ids["CreateSecurityGroup"]],
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.security_group(
                d0 + since_midnight("14:03:48"),
                "OK",
                "bastion-sg",
                bastion,
                [(22, office), (22, "0.0.0.0/0")],
                [ids["AuthorizeSecurityGroupIngress"]],
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.security_group(
                d0 + since_midnight("14:04:52"),
                "OK",
                "temp-debug-sg",
                debug,
                [(8080, "10.0.0.0/16")],
                [ids["AuthorizeDebug"]],
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.security_group(
                d0 + since_midnight("16:41:03"),
                "OK",
                "bastion-sg",
                bastion,
                [(22, office)],
                [ids["RevokeSecurityGroupIngress"]],
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.security_group(
                d0 + since_midnight("16:46:31"),
                "ResourceDeleted",
                "temp-debug-sg",
                debug,
                [],
                [ids["DeleteSecurityGroup"]],
            ),
        )
    )
    sg_type = "AWS::EC2::SecurityGroup"
    non_compliant_ssh = build.compliance(
        PROD, d0 + since_midnight("14:05:20"), "restricted-ssh", sg_type, bastion, "NON_COMPLIANT"
    )
    h.append((PROD, REGION, non_compliant_ssh))
    h.append(
        (
            PROD,
            REGION,
            build.compliance(PROD, d0 + since_midnight("16:42:37"), "restricted-ssh", sg_type, bastion, "COMPLIANT"),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.bucket(
                PROD,
                REGION,
                d0 + since_midnight("10:16:02"),
                "acme-prod-marketing-assets",
                True,
                [ids["PutBucketAcl"]],
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.compliance(
                PROD,
                d0 + since_midnight("10:17:45"),
                "s3-bucket-public-read-prohibited",
                "AWS::S3::Bucket",
                "acme-prod-marketing-assets",
                "NON_COMPLIANT",
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.support_user(
                d0 + since_midnight("15:16:30"),
                "ResourceDiscovered",
                [ids["CreateUser"], ids["AttachUserPolicy"], ids["PutUserPolicy"]],
                True,
                True,
            ),
        )
    )
    h.append(
        (
            PROD,
            REGION,
            build.support_user(d0 + since_midnight("17:36:12"), "ResourceDeleted", [ids["DeleteUser"]], False, False),
        )
    )
    batch = e.enis["batch"]
    for hhmm, state in (("20:00:41", "stopped"), ("21:15:09", "running")):
        h.append(
            (
                PROD,
                REGION,
                build.instance(
                    PROD,
                    d0 + since_midnight(hhmm),
                    "OK",
                    batch.instance_id,
                    "batch",
                    batch.ip,
                    batch.subnet_id,
                    batch.az,
                    batch.vpc_id,
                    state,
                    d0 - 90 * 86400,
                ),
            )
        )
    dev_subnet, dev_vpc, _, dev_az, _ = e.subnets["dev-private-a"]
    launched = d0 + since_midnight("11:30:44")
    h.append(
        (
            DEV,
            REGION,
            build.instance(
                DEV,
                d0 + since_midnight("11:31:30"),
                "ResourceDiscovered",
                new_instance,
                "dev-scratch",
                "10.1.10.31",
                dev_subnet,
                dev_az,
                dev_vpc,
                "pending",
                launched,
            ),
        )
    )
    h[-1][2]["relatedEvents"] = [ids["RunInstances"]]
    h.append(
        (
            DEV,
            REGION,
            build.instance(
                DEV,
                d0 + since_midnight("18:01:55"),
                "ResourceDeleted",
                new_instance,
                "dev-scratch",
                "10.1.10.31",
                dev_subnet,
                dev_az,
                dev_vpc,
                "running",
                launched,
            ),
        )
    )
    h[-1][2]["relatedEvents"] = [ids["TerminateInstances"]]
    h.append(
        (
            PROD,
            EU_REGION,
            build.bucket(PROD, EU_REGION, d0 + since_midnight("05:12:19"), "acme-prod-eu-backups", False),
        )
    )
    return ConfigChanges(h, non_compliant_ssh)
