"""The configuration items AWS Config records for the estate's resources: one builder per
resource type, shared by the day's history and the daily snapshot."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from connector.demo.actors import PROD, REGION
from connector.demo.aws_formats import compact_json, iso_millis, since_midnight
from connector.demo.random_ids import random_hex, random_lower
from connector.demo.resources import Estate


def relationship(resource_type: str, resource_id: str, name: str) -> dict[str, Any]:
    """One entry of an item's `relationships`: another resource Config records and how they relate."""
    return {"resourceId": resource_id, "resourceName": None, "resourceType": resource_type, "name": name}


class ConfigItemBuilder:
    """Builds configuration items for the estate's resources as AWS Config records them."""

    def __init__(self, rng: random.Random, estate: Estate, day0: int, tmp_user_id: str) -> None:
        self.rng = rng
        self.estate = estate
        self.day0 = day0
        self.tmp_user_id = tmp_user_id
        self.rule_ids = {
            n: "config-rule-" + random_lower(rng, 6)
            for n in (
                "restricted-ssh",
                "s3-bucket-public-read-prohibited",
                "encrypted-volumes",
                "ec2-imdsv2-check",
            )
        }

    def item(
        self,
        account: str,
        region: str,
        t: int,
        status: str,
        rtype: str,
        rid: str,
        name: str | None,
        arn: str,
        az: str,
        configuration: dict[str, Any] | None,
        *,
        tags: dict[str, str] | None = None,
        related: list[str] | None = None,
        relationships: list[dict[str, Any]] | None = None,
        supplementary: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """One configuration item; its capture time falls in the second after `t`."""
        ms = t * 1000 + self.rng.randrange(1000)
        return {
            "relatedEvents": related or [],
            "relationships": relationships or [],
            "configuration": configuration,
            "supplementaryConfiguration": supplementary or {},
            "tags": tags or {},
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": iso_millis(ms),
            "configurationStateId": ms,
            "awsAccountId": account,
            "configurationItemStatus": status,
            "resourceType": rtype,
            "resourceId": rid,
            "resourceName": name,
            "ARN": arn,
            "awsRegion": region,
            "availabilityZone": az,
            "configurationStateMd5Hash": ""
            if configuration is None
            else hashlib.md5(compact_json(configuration), usedforsecurity=False).hexdigest(),
            "resourceCreationTime": iso_millis(created * 1000) if created is not None else None,
        }

    def security_group(
        self, t: int, status: str, name: str, gid: str, rules: list[tuple[int, str]], related: list[str]
    ) -> dict[str, Any]:
        """A prod security group allowing TCP `rules` (port, CIDR) in, everything out."""
        e = self.estate
        config = (
            None
            if status == "ResourceDeleted"
            else {
                "description": f"{name} managed by terraform",
                "groupName": name,
                "ipPermissions": [
                    {
                        "fromPort": port,
                        "ipProtocol": "tcp",
                        "ipv6Ranges": [],
                        "prefixListIds": [],
                        "toPort": port,
                        "userIdGroupPairs": [],
                        "ipv4Ranges": [{"cidrIp": cidr}],
                        "ipRanges": [cidr],
                    }
                    for port, cidr in rules
                ],
                "ownerId": PROD,
                "groupId": gid,
                "ipPermissionsEgress": [
                    {
                        "ipProtocol": "-1",
                        "ipv6Ranges": [],
                        "prefixListIds": [],
                        "userIdGroupPairs": [],
                        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                        "ipRanges": ["0.0.0.0/0"],
                    }
                ],
                "tags": [{"key": "Name", "value": name}],
                "vpcId": e.prod_vpc,
            }
        )
        return self.item(
            PROD,
            REGION,
            t,
            status,
            "AWS::EC2::SecurityGroup",
            gid,
            name,
            f"arn:aws:ec2:{REGION}:{PROD}:security-group/{gid}",
            "Not Applicable",
            config,
            tags={"Name": name},
            related=related,
            relationships=[relationship("AWS::EC2::VPC", e.prod_vpc, "Is contained in Vpc")],
            created=None,
        )

    def compliance(self, account: str, t: int, rule: str, rtype: str, rid: str, result: str) -> dict[str, Any]:
        """How resource `rid` fared against `rule`: `COMPLIANT` or `NON_COMPLIANT`."""
        config = {
            "complianceType": result,
            "targetResourceId": rid,
            "targetResourceType": rtype,
            "configRuleList": [
                {
                    "configRuleArn": f"arn:aws:config:{REGION}:{account}:config-rule/{self.rule_ids[rule]}",
                    "configRuleId": self.rule_ids[rule],
                    "configRuleName": rule,
                    "complianceType": result,
                }
            ],
        }
        cid = f"{rtype}/{rid}"
        return self.item(
            account,
            REGION,
            t,
            "OK",
            "AWS::Config::ResourceCompliance",
            cid,
            cid,
            f"arn:aws:config:{REGION}:{account}:resource-compliance/{cid}",
            "Not Applicable",
            config,
            relationships=[relationship(rtype, rid, "Is associated with ")],
        )

    def instance(
        self,
        account: str,
        t: int,
        status: str,
        iid: str,
        name: str,
        ip: str,
        subnet: str,
        az: str,
        vpc: str,
        state: str,
        created: int,
    ) -> dict[str, Any]:
        """An EC2 instance in `state`, or its deletion when `status` is `ResourceDeleted`."""
        config = (
            None
            if status == "ResourceDeleted"
            else {
                "amiLaunchIndex": 0,
                "imageId": "ami-0fff1b9a61dec8a5f",
                "instanceId": iid,
                "instanceType": "t3.medium",
                "launchTime": iso_millis(created * 1000),
                "placement": {"availabilityZone": az, "tenancy": "default"},
                "privateIpAddress": ip,
                "state": {"code": {"running": 16, "stopped": 80, "pending": 0}[state], "name": state},
                "subnetId": subnet,
                "vpcId": vpc,
                "tags": [{"key": "Name", "value": name}],
                "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
            }
        )
        return self.item(
            account,
            REGION,
            t,
            status,
            "AWS::EC2::Instance",
            iid,
            None,
            f"arn:aws:ec2:{REGION}:{account}:instance/{iid}",
            az,
            config,
            tags={"Name": name},
            relationships=[
                relationship("AWS::EC2::Subnet", subnet, "Is contained in Subnet"),
                relationship("AWS::EC2::VPC", vpc, "Is contained in Vpc"),
            ],
            created=created,
        )

    def bucket(
        self, account: str, region: str, t: int, name: str, public: bool, related: list[str] | None = None
    ) -> dict[str, Any]:
        """An S3 bucket with its ACL; `public` grants everyone read access."""
        owner = random_hex(self.rng, 64)
        grants: list[dict[str, Any]] = [{"grantee": {"id": owner, "displayName": None}, "permission": "FullControl"}]
        if public:
            grants.append({"grantee": "AllUsers", "permission": "Read"})
        acl = {
            "grantSet": None,
            "grantList": grants,
            "owner": {"displayName": None, "id": owner},
            "isRequesterCharged": False,
        }
        return self.item(
            account,
            region,
            t,
            "OK",
            "AWS::S3::Bucket",
            name,
            name,
            f"arn:aws:s3:::{name}",
            "Regional",
            {
                "name": name,
                "owner": {"displayName": None, "id": owner},
                "creationDate": iso_millis((self.day0 - 400 * 86400) * 1000),
            },
            related=related,
            supplementary={
                "AccessControlList": compact_json(acl).decode(),
                "BucketPolicy": {"policyText": None},
                "PublicAccessBlockConfiguration": {
                    "blockPublicAcls": not public,
                    "ignorePublicAcls": not public,
                    "blockPublicPolicy": True,
                    "restrictPublicBuckets": True,
                },
                "ServerSideEncryptionConfiguration": {
                    "rules": [
                        {
                            "applyServerSideEncryptionByDefault": {
                                "sseAlgorithm": "AES256",
                                "kmsMasterKeyID": None,
                            },
                            "bucketKeyEnabled": False,
                        }
                    ]
                },
                "BucketVersioningConfiguration": {"status": "Off", "isMfaDeleteEnabled": None},
            },
            created=self.day0 - 400 * 86400,
        )

    def support_user(self, t: int, status: str, related: list[str], admin: bool, inline: bool) -> dict[str, Any]:
        """The day's `tmp-support` user, with or without its administrator and inline policies."""
        arn = f"arn:aws:iam::{PROD}:user/tmp-support"
        config = (
            None
            if status == "ResourceDeleted"
            else {
                "path": "/",
                "userName": "tmp-support",
                "userId": self.tmp_user_id,
                "arn": arn,
                "createDate": iso_millis((self.day0 + since_midnight("15:10:12")) * 1000),
                "userPolicyList": [
                    {
                        "policyName": "support-s3",
                        "policyDocument": (
                            "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%5B%7B%22Effect"
                            "%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22s3%3A%2A%22%2C%20%22Resource%22%3A%20%22%2A%22%7D"
                            "%5D%0A%7D"
                        ),
                    }
                ]
                if inline
                else [],
                "groupList": [],
                "attachedManagedPolicies": [
                    {
                        "policyName": "AdministratorAccess",
                        "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                    }
                ]
                if admin
                else [],
                "permissionsBoundary": None,
                "tags": [],
            }
        )
        return self.item(
            PROD,
            "global",
            t,
            status,
            "AWS::IAM::User",
            self.tmp_user_id,
            "tmp-support",
            arn,
            "Not Applicable",
            config,
            related=related,
            relationships=[
                {
                    "resourceId": "ANPAIWMBCKSKIEE64ZLYK",
                    "resourceName": "AdministratorAccess",
                    "resourceType": "AWS::IAM::Policy",
                    "name": "Is attached to CustomerManagedPolicy",
                }
            ]
            if admin
            else [],
        )
