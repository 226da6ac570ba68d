"""The daily AWS Config snapshot: every prod us-east-1 resource as of 06:05 with its rule
evaluations, the baseline from which the day's changes depart."""

from __future__ import annotations

from typing import Any

from connector.demo.actors import LOG_BUCKET, OFFICE_IP, PROD, REGION, TRAIL_NAME
from connector.demo.aws_formats import iso_millis, since_midnight
from connector.demo.config_items import ConfigItemBuilder, relationship
from connector.demo.random_ids import random_hex, random_upper


def snapshot_items(build: ConfigItemBuilder) -> tuple[int, list[dict[str, Any]]]:
    """When the snapshot was taken, and its items in the order Config lists them."""
    t = build.day0 + since_midnight("06:05:12")
    old = build.day0 - 200 * 86400
    items = [
        *_vpc_and_subnets(build, t, old),
        *_security_groups(build, t),
        *_hosts(build, t, old),
        *_identities(build, t, old),
        *_gateways_and_tables(build, t, old),
        *_buckets(build, t),
        *_trail_and_load_balancer(build, t, old),
    ]
    return t, items


def _vpc_and_subnets(build: ConfigItemBuilder, t: int, old: int) -> list[dict[str, Any]]:
    """The prod VPC and its subnets."""
    e, r = build.estate, build.rng
    vpc_item = build.item(
        PROD,
        REGION,
        t,
        "OK",
        "AWS::EC2::VPC",
        e.prod_vpc,
        None,
        f"arn:aws:ec2:{REGION}:{PROD}:vpc/{e.prod_vpc}",
        "Multiple Availability Zones",
        {
            "cidrBlock": "10.0.0.0/16",
            "dhcpOptionsId": "dopt-" + random_hex(r, 17),
            "state": "available",
            "vpcId": e.prod_vpc,
            "ownerId": PROD,
            "instanceTenancy": "default",
            "isDefault": False,
        },
        tags={"Name": "prod"},
        created=old,
    )
    items = [vpc_item]
    for name, (sid, vpc, cidr, az, az_id) in sorted(e.subnets.items()):
        if vpc != e.prod_vpc:
            continue
        items.append(
            build.item(
                PROD,
                REGION,
                t,
                "OK",
                "AWS::EC2::Subnet",
                sid,
                None,
                f"arn:aws:ec2:{REGION}:{PROD}:subnet/{sid}",
                az,
                {
                    "availabilityZone": az,
                    "availabilityZoneId": az_id,
                    "cidrBlock": cidr,
                    "mapPublicIpOnLaunch": "public" in name,
                    "state": "available",
                    "subnetId": sid,
                    "vpcId": vpc,
                    "ownerId": PROD,
                },
                tags={"Name": name},
                relationships=[relationship("AWS::EC2::VPC", vpc, "Is contained in Vpc")],
                created=old,
            )
        )
    return items


def _security_groups(build: ConfigItemBuilder, t: int) -> list[dict[str, Any]]:
    """Prod's security groups, each passing restricted-ssh."""
    e = build.estate
    items: list[dict[str, Any]] = []
    office = f"{OFFICE_IP}/32"
    sg_rules = {
        "alb-sg": [(443, "0.0.0.0/0"), (80, "0.0.0.0/0")],
        "web-sg": [(443, "10.0.0.0/16")],
        "bastion-sg": [(22, office)],
        "app-sg": [(8443, "10.0.0.0/16")],
        "db-sg": [(3306, "10.0.10.0/23"), (5432, "10.0.10.0/23"), (6379, "10.0.10.0/23")],
    }
    for name, rules in sg_rules.items():
        items.append(build.security_group(t, "OK", name, e.sg[name], rules, []))
        items.append(build.compliance(PROD, t, "restricted-ssh", "AWS::EC2::SecurityGroup", e.sg[name], "COMPLIANT"))
    return items


def _hosts(build: ConfigItemBuilder, t: int, old: int) -> list[dict[str, Any]]:
    """Each prod interface; for an instance's, the instance and its volume with their rule evaluations."""
    e, r = build.estate, build.rng
    items: list[dict[str, Any]] = []
    for eni in sorted(e.enis.values(), key=lambda x: x.name):
        if eni.account != PROD:
            continue
        items.append(
            build.item(
                PROD,
                REGION,
                t,
                "OK",
                "AWS::EC2::NetworkInterface",
                eni.eni_id,
                None,
                f"arn:aws:ec2:{REGION}:{PROD}:network-interface/{eni.eni_id}",
                eni.az,
                {
                    "availabilityZone": eni.az,
                    "description": "" if eni.instance_id != "-" else "ELB app/prod-web/50dc6c495c0c9188",
                    "networkInterfaceId": eni.eni_id,
                    "privateIpAddress": eni.ip,
                    "subnetId": eni.subnet_id,
                    "vpcId": eni.vpc_id,
                    "status": "in-use",
                    "interfaceType": "interface",
                    "attachment": {
                        "instanceId": None if eni.instance_id == "-" else eni.instance_id,
                        "status": "attached",
                    },
                },
                relationships=[relationship("AWS::EC2::Subnet", eni.subnet_id, "Is contained in Subnet")],
                created=old,
            )
        )
        if eni.instance_id == "-":
            continue
        items.append(
            build.instance(
                PROD,
                t,
                "OK",
                eni.instance_id,
                eni.name,
                eni.ip,
                eni.subnet_id,
                eni.az,
                eni.vpc_id,
                "running",
                old + 3600,
            )
        )
        vol = "vol-" + random_hex(r, 17)
        items.append(
            build.item(
                PROD,
                REGION,
                t,
                "OK",
                "AWS::EC2::Volume",
                vol,
                None,
                f"arn:aws:ec2:{REGION}:{PROD}:volume/{vol}",
                eni.az,
                {
                    "attachments": [
                        {
                            "device": "/dev/xvda",
                            "instanceId": eni.instance_id,
                            "state": "attached",
                            "volumeId": vol,
                        }
                    ],
                    "availabilityZone": eni.az,
                    "encrypted": eni.name != "batch",
                    "size": 30,
                    "volumeId": vol,
                    "state": "in-use",
                    "volumeType": "gp3",
                    "iops": 3000,
                },
                relationships=[relationship("AWS::EC2::Instance", eni.instance_id, "Is attached to Instance")],
                created=old + 3600,
            )
        )
        items.append(
            build.compliance(
                PROD,
                t,
                "encrypted-volumes",
                "AWS::EC2::Volume",
                vol,
                "COMPLIANT" if eni.name != "batch" else "NON_COMPLIANT",
            )
        )
        items.append(build.compliance(PROD, t, "ec2-imdsv2-check", "AWS::EC2::Instance", eni.instance_id, "COMPLIANT"))
    return items


def _identities(build: ConfigItemBuilder, t: int, old: int) -> list[dict[str, Any]]:
    """The IAM users and roles of prod."""
    r = build.rng
    items: list[dict[str, Any]] = []
    for user in ("alice", "bob", "carol", "svc-reporting"):
        uid = "AIDA" + random_upper(r, 17)
        items.append(
            build.item(
                PROD,
                "global",
                t,
                "OK",
                "AWS::IAM::User",
                uid,
                user,
                f"arn:aws:iam::{PROD}:user/{user}",
                "Not Applicable",
                {
                    "path": "/",
                    "userName": user,
                    "userId": uid,
                    "arn": f"arn:aws:iam::{PROD}:user/{user}",
                    "createDate": iso_millis(old * 1000),
                    "userPolicyList": [],
                    "groupList": ["admins" if user == "alice" else "engineers"],
                    "attachedManagedPolicies": [],
                    "permissionsBoundary": None,
                    "tags": [],
                },
                created=old,
            )
        )
    for role, path in (
        ("prod-ec2-ssm", "/"),
        ("monitoring-readonly", "/"),
        ("AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/"),
        ("AWSReservedSSO_ReadOnly_5f2c1e9a7b3d4c60", "/aws-reserved/sso.amazonaws.com/"),
    ):
        rid = "AROA" + random_upper(r, 17)
        arn = f"arn:aws:iam::{PROD}:role{path}{role}"
        items.append(
            build.item(
                PROD,
                "global",
                t,
                "OK",
                "AWS::IAM::Role",
                rid,
                role,
                arn,
                "Not Applicable",
                {
                    "path": path,
                    "roleName": role,
                    "roleId": rid,
                    "arn": arn,
                    "createDate": iso_millis(old * 1000),
                    "rolePolicyList": [],
                    "attachedManagedPolicies": [],
                    "instanceProfileList": [],
                    "permissionsBoundary": None,
                    "tags": [],
                },
                created=old,
            )
        )
    return items


def _gateways_and_tables(build: ConfigItemBuilder, t: int, old: int) -> list[dict[str, Any]]:
    """The prod VPC's gateways, route tables and network ACL."""
    e, r = build.estate, build.rng
    items: list[dict[str, Any]] = []
    for rtype, prefix, arn_kind in (
        ("AWS::EC2::InternetGateway", "igw-", "internet-gateway"),
        ("AWS::EC2::NatGateway", "nat-", "natgateway"),
        ("AWS::EC2::RouteTable", "rtb-", "route-table"),
        ("AWS::EC2::RouteTable", "rtb-", "route-table"),
        ("AWS::EC2::NetworkAcl", "acl-", "network-acl"),
    ):
        rid = prefix + random_hex(r, 17)
        items.append(
            build.item(
                PROD,
                REGION,
                t,
                "OK",
                rtype,
                rid,
                None,
                f"arn:aws:ec2:{REGION}:{PROD}:{arn_kind}/{rid}",
                "Not Applicable",
                {"vpcId": e.prod_vpc, "ownerId": PROD},
                relationships=[relationship("AWS::EC2::VPC", e.prod_vpc, "Is contained in Vpc")],
                created=old,
            )
        )
    return items


def _buckets(build: ConfigItemBuilder, t: int) -> list[dict[str, Any]]:
    """Prod's buckets, all private at snapshot time."""
    items: list[dict[str, Any]] = []
    for bucket in ("acme-prod-app-data", "acme-prod-marketing-assets", LOG_BUCKET):
        items.append(build.bucket(PROD, REGION, t, bucket, False))
        items.append(
            build.compliance(PROD, t, "s3-bucket-public-read-prohibited", "AWS::S3::Bucket", bucket, "COMPLIANT")
        )
    return items


def _trail_and_load_balancer(build: ConfigItemBuilder, t: int, old: int) -> list[dict[str, Any]]:
    """The multi-region trail and the prod load balancer."""
    e = build.estate
    trail = build.item(
        PROD,
        REGION,
        t,
        "OK",
        "AWS::CloudTrail::Trail",
        TRAIL_NAME,
        TRAIL_NAME,
        f"arn:aws:cloudtrail:{REGION}:{PROD}:trail/{TRAIL_NAME}",
        "Not Applicable",
        {
            "name": TRAIL_NAME,
            "s3BucketName": LOG_BUCKET,
            "isMultiRegionTrail": True,
            "includeGlobalServiceEvents": True,
            "logFileValidationEnabled": True,
            "isOrganizationTrail": False,
            "homeRegion": REGION,
        },
        created=old,
    )
    load_balancer = build.item(
        PROD,
        REGION,
        t,
        "OK",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        f"arn:aws:elasticloadbalancing:{REGION}:{PROD}:loadbalancer/app/prod-web/50dc6c495c0c9188",
        "prod-web",
        f"arn:aws:elasticloadbalancing:{REGION}:{PROD}:loadbalancer/app/prod-web/50dc6c495c0c9188",
        "Multiple Availability Zones",
        {
            "loadBalancerName": "prod-web",
            "scheme": "internet-facing",
            "type": "application",
            "ipAddressType": "dualstack",
            "vpcId": e.prod_vpc,
            "securityGroups": [e.sg["alb-sg"]],
        },
        created=old,
    )
    return [trail, load_balancer]
