"""The seeded resources of the demo estate (VPCs, subnets, interfaces, security groups) that
every dataset refers to, so flow logs, CloudTrail and Config name the same ids."""

from __future__ import annotations

import random
from dataclasses import dataclass

from connector.demo.actors import DEV, PROD
from connector.demo.random_ids import random_hex


@dataclass(frozen=True)
class Eni:
    """One network interface of the estate: the unit a flow log record is logged against."""

    eni_id: str
    ip: str
    account: str
    vpc_id: str
    subnet_id: str
    az: str
    az_id: str
    instance_id: str  # "-" for interfaces AWS manages (load balancer, NAT gateway)
    name: str


class Estate:
    """The accounts, VPCs, instances and interfaces every data set refers to."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prod_vpc = "vpc-" + random_hex(rng, 17)
        self.dev_vpc = "vpc-" + random_hex(rng, 17)
        self.subnets: dict[str, tuple[str, str, str, str, str]] = {}
        for name, vpc, cidr, az, az_id in (
            ("prod-public-a", self.prod_vpc, "10.0.0.0/24", "us-east-1a", "use1-az1"),
            ("prod-public-b", self.prod_vpc, "10.0.1.0/24", "us-east-1b", "use1-az2"),
            ("prod-app-a", self.prod_vpc, "10.0.10.0/24", "us-east-1a", "use1-az1"),
            ("prod-app-b", self.prod_vpc, "10.0.11.0/24", "us-east-1b", "use1-az2"),
            ("prod-data-a", self.prod_vpc, "10.0.20.0/24", "us-east-1a", "use1-az1"),
            ("prod-data-b", self.prod_vpc, "10.0.21.0/24", "us-east-1b", "use1-az2"),
            ("dev-public-a", self.dev_vpc, "10.1.0.0/24", "us-east-1a", "use1-az1"),
            ("dev-private-a", self.dev_vpc, "10.1.10.0/24", "us-east-1a", "use1-az1"),
            ("dev-data-a", self.dev_vpc, "10.1.20.0/24", "us-east-1a", "use1-az1"),
        ):
            self.subnets[name] = ("subnet-" + random_hex(rng, 17), vpc, cidr, az, az_id)
        self.enis: dict[str, Eni] = {}
        for name, ip, subnet, is_instance in (
            ("bastion", "10.0.0.10", "prod-public-a", True),
            ("web-1", "10.0.10.11", "prod-app-a", True),
            ("web-2", "10.0.11.12", "prod-app-b", True),
            ("web-3", "10.0.10.13", "prod-app-a", True),
            ("app-1", "10.0.10.21", "prod-app-a", True),
            ("app-2", "10.0.11.22", "prod-app-b", True),
            ("db-mysql", "10.0.20.31", "prod-data-a", True),
            ("db-postgres", "10.0.21.32", "prod-data-b", True),
            ("cache", "10.0.20.41", "prod-data-a", True),
            ("batch", "10.0.10.51", "prod-app-a", True),
            ("alb-a", "10.0.0.45", "prod-public-a", False),
            ("alb-b", "10.0.1.87", "prod-public-b", False),
            ("dev-jump", "10.1.0.20", "dev-public-a", True),
            ("dev-app-1", "10.1.10.11", "dev-private-a", True),
            ("dev-app-2", "10.1.10.12", "dev-private-a", True),
            ("dev-db", "10.1.20.21", "dev-data-a", True),
            ("dev-nat", "10.1.0.100", "dev-public-a", False),
        ):
            subnet_id, vpc, _, az, az_id = self.subnets[subnet]
            account = DEV if name.startswith("dev-") else PROD
            instance = "i-" + random_hex(rng, 17) if is_instance else "-"
            self.enis[name] = Eni("eni-" + random_hex(rng, 17), ip, account, vpc, subnet_id, az, az_id, instance, name)
        batch = self.enis["batch"]
        # A secondary interface that carries no traffic, so the flow log shows NODATA for it.
        self.idle = Eni(
            "eni-" + random_hex(rng, 17),
            "10.0.10.52",
            PROD,
            batch.vpc_id,
            batch.subnet_id,
            batch.az,
            batch.az_id,
            batch.instance_id,
            "batch-secondary",
        )
        self.sg = {
            name: "sg-" + random_hex(rng, 17)
            for name in ("alb-sg", "web-sg", "bastion-sg", "app-sg", "db-sg", "dev-jump-sg", "dev-app-sg")
        }
        self.flow_log_prod = "fl-" + random_hex(rng, 17)
        self.flow_log_dev = "fl-" + random_hex(rng, 17)
