"""Writes one day of a small AWS estate's security telemetry exactly as AWS lays it out in S3.

The `demo` command and the parser tests read these files as if they came from a real bucket, so
key names, headers and record shapes follow what VPC Flow Logs, CloudTrail and AWS Config deliver.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import hashlib
import io
import json
import random
import string
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROD = "111122223333"
DEV = "444455556666"
REGION = "us-east-1"
EU_REGION = "eu-west-1"
LOG_BUCKET = "acme-security-logs"
TRAIL_NAME = "org-trail"

# Every public address below was checked once against the GeoLite2 City database shipped in
# `maxminddb-geolite2`; the country codes are what that database answers.
BRUTE_FORCE_SSH = (("61.177.172.13", "CN"), ("177.54.144.10", "BR"))
BRUTE_FORCE_RDP = (("185.156.73.54", "RU"), ("5.160.218.10", "IR"))
PORT_SCANNER = ("91.240.118.172", "NL")
OFFICE_IP = "24.7.46.140"  # US
ALICE_HOME_IP = "68.46.61.67"  # US
BOB_IP = "88.152.144.8"  # DE
CAROL_IP = "217.42.74.162"  # GB
DAVE_IP = "81.67.17.147"  # FR
PROD_NAT_IP = "18.205.93.1"  # US, the prod NAT gateway's address as AWS services see it
CI_RUNNER_IP = "20.42.65.92"  # US
WEB_CLIENTS_V4 = (
    "216.241.106.223",
    "205.97.62.48",
    "24.7.46.140",
    "155.129.14.118",
    "68.46.61.67",  # US
    "184.182.216.254",
    "205.68.126.53",
    "108.15.212.245",
    "135.18.184.188",  # US
    "88.152.144.8",
    "141.16.62.211",
    "217.237.23.227",
    "134.30.2.236",
    "145.253.232.92",  # DE
    "129.13.46.48",
    "109.226.179.59",
    "136.199.128.246",  # DE
    "217.42.74.162",
    "86.190.250.57",
    "82.27.24.169",
    "138.253.41.115",
    "86.179.5.116",  # GB
    "90.221.146.209",
    "163.156.196.178",
    "62.3.99.51",  # GB
    "126.212.213.123",
    "126.237.141.20",
    "59.171.108.57",
    "106.138.196.186",
    "220.37.116.189",  # JP
    "115.247.186.142",
    "117.250.109.216",
    "115.110.191.81",
    "45.248.16.185",
    "171.57.32.52",  # IN
    "195.36.201.133",
    "81.67.17.147",
    "88.127.210.128",
    "78.251.200.214",
    "90.112.44.250",  # FR
    "131.134.138.41",
    "64.226.162.10",
    "209.41.130.228",
    "99.246.102.224",  # CA
    "165.240.158.99",
    "101.182.117.205",
    "49.177.194.126",  # AU
    "179.250.122.167",
    "168.194.77.66",
    "186.235.65.165",  # BR
    "145.183.88.74",
    "77.169.143.29",
    "85.150.223.222",  # NL
    "45.32.106.218",
    "150.130.64.239",  # SG
    "59.26.17.223",
    "161.122.67.64",
    "39.120.80.124",  # KR
    "185.209.121.224",
    "62.36.52.227",  # ES
    "151.85.212.193",
    "95.236.137.143",  # IT
    "83.253.240.124",
    "37.250.151.221",  # SE
    "187.150.138.67",
    "189.145.161.183",  # MX
    "197.65.1.61",
    "41.122.33.215",  # ZA
    "93.105.140.139",
    "157.25.238.69",  # PL
    "129.129.232.77",
    "81.221.93.92",  # CH
    "93.95.87.108",
    "136.201.218.138",  # IE
)
WEB_CLIENTS_V6 = (
    "2a01:4f8:c17:1::1",  # DE
    "2001:67c:2e8:22::c100:68b",  # NL
    "2a03:2880:f10c:83:face:b00c::25de",  # IE
    "2404:6800:4004:80a::200e",  # AU
)
INTERNET_SERVICES = ("151.101.1.1", "140.82.112.3", "54.239.28.85")  # US: package mirror, git, AWS API
S3_ENDPOINTS = ("52.216.8.1", "52.216.8.31", "52.216.9.14")  # US (Ashburn), S3 in us-east-1
PROD_ALB_V6 = "2600:1f18:4a3:6e00::45"
DEV_APP_V6 = "2600:1f18:4a3:6e10::11"

V2_FIELDS = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
]
V5_FIELDS = [
    "version",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "interface-id",
    "account-id",
    "type",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "protocol",
    "bytes",
    "packets",
    "start",
    "end",
    "action",
    "tcp-flags",
    "log-status",
    "region",
    "az-id",
    "flow-direction",
    "pkt-src-aws-service",
    "traffic-path",
]

# Relative load by hour of day (UTC), so web and API volume follows a working day.
HOURLY_LOAD = (
    0.35,
    0.3,
    0.28,
    0.27,
    0.3,
    0.38,
    0.5,
    0.65,
    0.8,
    0.9,
    0.95,
    1.0,
    1.0,
    0.98,
    0.95,
    0.92,
    0.9,
    0.85,
    0.8,
    0.72,
    0.62,
    0.55,
    0.47,
    0.4,
)

TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
UA_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
UA_BROWSER_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
UA_CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/{cmd}"
)
UA_BOTO = (
    "Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#6.1.112 md/arch#x86_64 lang/python#3.12.7 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.60"
)
UA_TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 os/linux "
    "lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.190.0"
)
UA_SSM = "aws-sdk-go/1.44.260 (go1.21.8; linux; amd64) amazon-ssm-agent/3.3.987.0"
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation")


@dataclass(frozen=True)
class DemoManifest:
    """What `generate_estate` wrote and the counts a reader of those files must arrive at."""

    root: Path
    day: dt.date
    seed: int
    keys: tuple[str, ...]
    flow_log_files: tuple[str, ...]
    flow_records_per_file: dict[str, int]
    flow_records_total: int
    flow_records_by_log_status: dict[str, int]
    flow_ipv6_records: int
    flow_rejects_by_source: dict[str, int]
    cloudtrail_files: tuple[str, ...]
    cloudtrail_records_per_file: dict[str, int]
    cloudtrail_records_total: int
    console_login_failures: dict[str, int]
    console_login_successes: int
    root_console_logins: int
    stop_logging_events: int
    start_logging_events: int
    access_denied_events: int
    insight_files: tuple[str, ...]
    insight_records: int
    config_files: tuple[str, ...]
    config_items_per_file: dict[str, int]
    config_items_total: int
    non_compliant: tuple[tuple[str, str, str], ...]
    notification_files: tuple[str, ...]
    skipped_by_rule: tuple[str, ...]
    brute_force_sources: dict[str, str]
    port_scan_source: str
    port_scan_country: str
    port_scan_ports: int


@dataclass(frozen=True)
class _Eni:
    eni_id: str
    ip: str
    account: str
    vpc_id: str
    subnet_id: str
    az: str
    az_id: str
    instance_id: str  # "-" for interfaces AWS manages (load balancer, NAT gateway)
    name: str


class _Estate:
    """The accounts, VPCs, instances and interfaces every data set refers to."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prod_vpc = "vpc-" + _hex(rng, 17)
        self.dev_vpc = "vpc-" + _hex(rng, 17)
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
            self.subnets[name] = ("subnet-" + _hex(rng, 17), vpc, cidr, az, az_id)
        self.enis: dict[str, _Eni] = {}
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
            instance = "i-" + _hex(rng, 17) if is_instance else "-"
            self.enis[name] = _Eni("eni-" + _hex(rng, 17), ip, account, vpc, subnet_id, az, az_id, instance, name)
        batch = self.enis["batch"]
        # A secondary interface that carries no traffic, so the flow log shows NODATA for it.
        self.idle = _Eni(
            "eni-" + _hex(rng, 17),
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
            name: "sg-" + _hex(rng, 17)
            for name in ("alb-sg", "web-sg", "bastion-sg", "app-sg", "db-sg", "dev-jump-sg", "dev-app-sg")
        }
        self.flow_log_prod = "fl-" + _hex(rng, 17)
        self.flow_log_dev = "fl-" + _hex(rng, 17)


def generate_estate(root: Path, day: dt.date = dt.date(2026, 11, 27), seed: int = 7) -> DemoManifest:
    """Write the demo bucket under `root`; same arguments give byte-identical files."""
    rng = random.Random(seed)
    estate = _Estate(rng)
    day0 = calendar.timegm(day.timetuple())
    objects: dict[str, bytes] = {}

    flow = _FlowLogs(rng, estate, day, day0)
    flow.generate()
    objects.update(flow.objects)

    trail = _CloudTrail(rng, estate, day, day0)
    trail.generate()
    objects.update(trail.objects)

    config = _Config(
        rng,
        estate,
        day,
        day0,
        trail.scenario_event_ids,
        trail.debug_sg,
        trail.new_dev_instance,
        trail.tmp_user_id,
    )
    config.generate()
    objects.update(config.objects)

    root.mkdir(parents=True, exist_ok=True)
    for key in sorted(objects):
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(objects[key])

    return DemoManifest(
        root=root,
        day=day,
        seed=seed,
        keys=tuple(sorted(objects)),
        flow_log_files=tuple(sorted(flow.counts)),
        flow_records_per_file=dict(sorted(flow.counts.items())),
        flow_records_total=sum(flow.counts.values()),
        flow_records_by_log_status=dict(sorted(flow.log_status.items())),
        flow_ipv6_records=flow.ipv6,
        flow_rejects_by_source=dict(flow.rejects.most_common()),
        cloudtrail_files=tuple(sorted(trail.counts)),
        cloudtrail_records_per_file=dict(sorted(trail.counts.items())),
        cloudtrail_records_total=sum(trail.counts.values()),
        console_login_failures=dict(sorted(trail.login_failures.items())),
        console_login_successes=trail.login_successes,
        root_console_logins=trail.root_logins,
        stop_logging_events=trail.event_names["StopLogging"],
        start_logging_events=trail.event_names["StartLogging"],
        access_denied_events=trail.access_denied,
        insight_files=tuple(sorted(trail.insight_counts)),
        insight_records=sum(trail.insight_counts.values()),
        config_files=tuple(sorted(config.counts)),
        config_items_per_file=dict(sorted(config.counts.items())),
        config_items_total=sum(config.counts.values()),
        non_compliant=tuple(sorted(config.non_compliant)),
        notification_files=tuple(sorted(config.notifications)),
        skipped_by_rule=tuple(sorted(trail.skipped + config.skipped)),
        brute_force_sources=dict(BRUTE_FORCE_SSH + BRUTE_FORCE_RDP),
        port_scan_source=PORT_SCANNER[0],
        port_scan_country=PORT_SCANNER[1],
        port_scan_ports=len(flow.scanned_ports),
    )


# --- VPC Flow Logs -------------------------------------------------------------------------------


class _FlowLogs:
    """Prod's flow log uses the default v2 format in 5-minute files; dev's a custom v5 format, hourly."""

    def __init__(self, rng: random.Random, estate: _Estate, day: dt.date, day0: int) -> None:
        self.rng = rng
        self.estate = estate
        self.day = day
        self.day0 = day0
        self.objects: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.log_status: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.ipv6 = 0
        self.scanned_ports: set[int] = set()

    def generate(self) -> None:
        e = self.estate
        prod_windows: dict[int, list[dict[str, str]]] = {w: [] for w in range(0, 86400, 300)}
        for w in prod_windows:
            self._prod_window(prod_windows[w], self.day0 + w, 300)
        dev_windows: dict[int, list[dict[str, str]]] = {w: [] for w in range(0, 86400, 3600)}
        for w in dev_windows:
            self._dev_window(dev_windows[w], self.day0 + w, 3600)

        bastion, alb = e.enis["bastion"], e.enis["alb-a"]
        self._brute_force(prod_windows, 300, BRUTE_FORCE_SSH[0][0], bastion, 22, "03:05", 95, 6, None)
        # The second SSH campaign outlasts the moment bastion-sg is opened to the world (14:03).
        self._brute_force(prod_windows, 300, BRUTE_FORCE_SSH[1][0], bastion, 22, "13:05", 105, 5, "14:03")
        jump = e.enis["dev-jump"]
        self._brute_force(dev_windows, 3600, BRUTE_FORCE_RDP[0][0], jump, 3389, "08:40", 100, 5, None)
        self._brute_force(dev_windows, 3600, BRUTE_FORCE_RDP[1][0], jump, 3389, "19:15", 70, 6, None)
        self._port_scan(prod_windows, alb, "06:12", 25)

        for w, recs in prod_windows.items():
            self._emit(e.flow_log_prod, PROD, V2_FIELDS, "2", w, recs)
        for w, recs in dev_windows.items():
            self._emit(e.flow_log_dev, DEV, V5_FIELDS, "5", w, recs)

    def _emit(
        self, flow_log: str, account: str, fields: list[str], version: str, w: int, recs: list[dict[str, str]]
    ) -> None:
        stamp = dt.datetime.fromtimestamp(self.day0 + w, dt.UTC).strftime("%Y%m%dT%H%MZ")
        key = (
            f"AWSLogs/{account}/vpcflowlogs/{REGION}/{self.day:%Y/%m/%d}/"
            f"{account}_vpcflowlogs_{REGION}_{flow_log}_{stamp}_{_hex(self.rng, 8)}.log.gz"
        )
        recs.sort(key=lambda r: (r["start"], r["interface-id"]))
        lines = [" ".join(fields)]
        for rec in recs:
            rec["version"] = version
            lines.append(" ".join([rec.get(f, "-") for f in fields]))
            status = rec["log-status"]
            self.log_status[status] += 1
            if rec.get("action") == "REJECT":
                self.rejects[rec["srcaddr"]] += 1
            if ":" in rec.get("srcaddr", "-"):
                self.ipv6 += 1
        self.objects[key] = _gzip(("\n".join(lines) + "\n").encode())
        self.counts[key] = len(lines) - 1

    def _rec(
        self,
        eni: _Eni,
        src: str,
        dst: str,
        sport: int,
        dport: int,
        proto: int,
        packets: int,
        nbytes: int,
        start: int,
        end: int,
        action: str,
        direction: str,
        flags: int,
        *,
        pkt_src: str | None = None,
        pkt_dst: str | None = None,
        service: str = "-",
        path: str = "-",
    ) -> dict[str, str]:
        return {
            "account-id": eni.account,
            "interface-id": eni.eni_id,
            "srcaddr": src,
            "dstaddr": dst,
            "srcport": str(sport),
            "dstport": str(dport),
            "protocol": str(proto),
            "packets": str(packets),
            "bytes": str(nbytes),
            "start": str(start),
            "end": str(end),
            "action": action,
            "log-status": "OK",
            "vpc-id": eni.vpc_id,
            "subnet-id": eni.subnet_id,
            "instance-id": eni.instance_id,
            "type": "IPv6" if ":" in src else "IPv4",
            "pkt-srcaddr": pkt_src or src,
            "pkt-dstaddr": pkt_dst or dst,
            "tcp-flags": str(flags),
            "region": REGION,
            "az-id": eni.az_id,
            "flow-direction": direction,
            "pkt-src-aws-service": service,
            "traffic-path": path if direction == "egress" else "-",
        }

    def _status(self, eni: _Eni, start: int, end: int, status: str) -> dict[str, str]:
        # AWS fills only the interface, account and window for NODATA/SKIPDATA; the rest is "-".
        return {
            "account-id": eni.account,
            "interface-id": eni.eni_id,
            "start": str(start),
            "end": str(end),
            "log-status": status,
            "vpc-id": eni.vpc_id,
            "subnet-id": eni.subnet_id,
            "instance-id": eni.instance_id,
            "region": REGION,
            "az-id": eni.az_id,
        }

    def _span(self, w0: int, width: int, longest: int) -> tuple[int, int]:
        start = w0 + self.rng.randrange(0, width - 2)
        end = min(start + self.rng.randint(1, longest), w0 + width - 1)
        return start, end

    def _ephemeral(self) -> int:
        return self.rng.randint(32768, 60999) if self.rng.random() < 0.7 else self.rng.randint(49152, 65535)

    def _inbound(
        self,
        out: list[dict[str, str]],
        eni: _Eni,
        client: str,
        dport: int,
        w0: int,
        width: int,
        size: int,
        path: str = "8",
        local: str | None = None,
    ) -> None:
        """A connection from outside the VPC to `eni`, accepted: request and response records."""
        r = self.rng
        s, t = self._span(w0, width, 50)
        sport = self._ephemeral()
        req_p = r.randint(6, 30)
        resp_p = r.randint(8, 60)
        here = local or eni.ip
        out.append(
            self._rec(
                eni,
                client,
                here,
                sport,
                dport,
                6,
                req_p,
                req_p * r.randint(60, 180),
                s,
                t,
                "ACCEPT",
                "ingress",
                3,
            )
        )
        out.append(
            self._rec(
                eni,
                here,
                client,
                dport,
                sport,
                6,
                resp_p,
                resp_p * r.randint(200, size),
                s,
                t,
                "ACCEPT",
                "egress",
                19,
                path=path,
            )
        )

    def _internal(
        self, out: list[dict[str, str]], a: _Eni, b: _Eni, dport: int, w0: int, width: int, size: int
    ) -> None:
        """East-west TCP: both interfaces log both directions of the flow."""
        r = self.rng
        s, t = self._span(w0, width, 120)
        sport = self._ephemeral()
        req_p, resp_p = r.randint(4, 40), r.randint(4, 80)
        req_b, resp_b = req_p * r.randint(70, 400), resp_p * r.randint(100, size)
        for eni in (a, b):
            out.append(
                self._rec(
                    eni,
                    a.ip,
                    b.ip,
                    sport,
                    dport,
                    6,
                    req_p,
                    req_b,
                    s,
                    t,
                    "ACCEPT",
                    "egress" if eni is a else "ingress",
                    3,
                    path="1",
                )
            )
            out.append(
                self._rec(
                    eni,
                    b.ip,
                    a.ip,
                    dport,
                    sport,
                    6,
                    resp_p,
                    resp_b,
                    s,
                    t,
                    "ACCEPT",
                    "ingress" if eni is a else "egress",
                    19,
                    path="1",
                )
            )

    def _outbound(
        self,
        out: list[dict[str, str]],
        eni: _Eni,
        dst: str,
        dport: int,
        proto: int,
        w0: int,
        width: int,
        path: str,
        service: str = "-",
    ) -> None:
        """A request from `eni` to something outside it, and the answer."""
        r = self.rng
        s, t = self._span(w0, width, 30 if proto == 6 else 2)
        sport = self._ephemeral()
        if proto == 17:
            req_p, resp_p, req_b, resp_b, flags = 1, 1, r.randint(60, 90), r.randint(90, 300), 0
        else:
            req_p, resp_p = r.randint(5, 25), r.randint(5, 120)
            req_b, resp_b, flags = req_p * r.randint(80, 300), resp_p * r.randint(300, 1400), 3
        out.append(
            self._rec(
                eni,
                eni.ip if ":" not in dst else DEV_APP_V6,
                dst,
                sport,
                dport,
                proto,
                req_p,
                req_b,
                s,
                t,
                "ACCEPT",
                "egress",
                flags,
                path=path,
            )
        )
        out.append(
            self._rec(
                eni,
                dst,
                eni.ip if ":" not in dst else DEV_APP_V6,
                dport,
                sport,
                proto,
                resp_p,
                resp_b,
                s,
                t,
                "ACCEPT",
                "ingress",
                19 if flags else 0,
                service=service,
            )
        )

    def _ping(self, out: list[dict[str, str]], a: _Eni, b: _Eni, w0: int, width: int) -> None:
        s, t = self._span(w0, width, 4)
        n = self.rng.randint(3, 5)
        out.append(self._rec(a, a.ip, b.ip, 0, 0, 1, n, n * 84, s, t, "ACCEPT", "egress", 0, path="1"))
        out.append(self._rec(a, b.ip, a.ip, 0, 0, 1, n, n * 84, s, t, "ACCEPT", "ingress", 0))

    def _prod_window(self, out: list[dict[str, str]], w0: int, width: int) -> None:
        r, e = self.rng, self.estate.enis
        hour = (w0 - self.day0) // 3600
        load = HOURLY_LOAD[hour]
        albs, webs = (e["alb-a"], e["alb-b"]), (e["web-1"], e["web-2"], e["web-3"])
        for _ in range(int(57 * load * r.uniform(0.85, 1.15)) + 4):
            alb = r.choice(albs)
            port = 443 if r.random() < 0.85 else 80
            if r.random() < 0.06:
                self._inbound(out, alb, r.choice(WEB_CLIENTS_V6), port, w0, width, 1400, local=PROD_ALB_V6)
            else:
                self._inbound(out, alb, r.choice(WEB_CLIENTS_V4), port, w0, width, 1400)
            if r.random() < 0.35:
                self._internal(out, alb, r.choice(webs), 443, w0, width, 1400)
        for _ in range(r.randint(3, 6)):
            app = r.choice((e["app-1"], e["app-2"], *webs))
            db, port = r.choice(((e["db-mysql"], 3306), (e["db-postgres"], 5432), (e["cache"], 6379)))
            self._internal(out, app, db, port, w0, width, 900)
        for _ in range(r.randint(2, 4)):
            src = r.choice((e["app-1"], e["app-2"], e["batch"], *webs))
            self._outbound(out, src, "10.0.0.2", 53, 17, w0, width, "1")
        for _ in range(r.randint(1, 3)):
            src = r.choice((e["batch"], e["app-1"], e["app-2"]))
            if r.random() < 0.5:
                self._outbound(out, src, r.choice(S3_ENDPOINTS), 443, 6, w0, width, "7", "S3")
            else:
                self._outbound(out, src, r.choice(INTERNET_SERVICES), 443, 6, w0, width, "8", "AMAZON")
        if 9 <= hour < 18 and r.random() < 0.25:
            self._inbound(out, e["bastion"], OFFICE_IP, 22, w0, width, 600)
        if r.random() < 1 / 12:
            self._ping(out, e["batch"], r.choice((e["app-1"], e["app-2"])), w0, width)
        out.append(self._status(self.estate.idle, w0, w0 + width - 1, "NODATA"))
        if (w0 - self.day0) in (3 * 3600 + 1500, 17 * 3600 + 600):
            out.append(self._status(e["cache"], w0, w0 + width - 1, "SKIPDATA"))

    def _dev_window(self, out: list[dict[str, str]], w0: int, width: int) -> None:
        r, e = self.rng, self.estate.enis
        load = HOURLY_LOAD[(w0 - self.day0) // 3600]
        apps, nat = (e["dev-app-1"], e["dev-app-2"]), e["dev-nat"]
        for _ in range(int(38 * load * r.uniform(0.85, 1.15)) + 3):
            self._via_nat(out, r.choice(apps), nat, r.choice(INTERNET_SERVICES), w0, width)
        for _ in range(int(12 * load) + 1):
            self._outbound(out, r.choice(apps), r.choice(S3_ENDPOINTS), 443, 6, w0, width, "7", "S3")
        for _ in range(int(30 * load) + 2):
            self._internal(out, r.choice(apps), e["dev-db"], 5432, w0, width, 900)
        for _ in range(int(30 * load) + 2):
            self._outbound(out, r.choice((*apps, e["dev-db"], e["dev-jump"])), "10.1.0.2", 53, 17, w0, width, "1")
        for _ in range(3):
            self._outbound(out, e["dev-app-1"], r.choice(WEB_CLIENTS_V6[:2]), 443, 6, w0, width, "8")
        hour = (w0 - self.day0) // 3600
        if 8 <= hour < 18:
            for _ in range(2):
                self._inbound(out, e["dev-jump"], OFFICE_IP, 3389, w0, width, 1400)
        self._ping(out, e["dev-app-1"], e["dev-db"], w0, width)
        out.append(
            self._status(e["dev-db"], w0, w0 + width - 1, "NODATA")
            if hour in (2, 3, 4)
            else self._status(e["dev-jump"], w0, w0 + width - 1, "NODATA")
            if hour == 23
            else self._status(nat, w0 + 61, w0 + 62, "SKIPDATA")
            if hour == 12
            else self._status(e["dev-app-2"], w0, w0 + width - 1, "NODATA")
        )

    def _via_nat(self, out: list[dict[str, str]], app: _Eni, nat: _Eni, dst: str, w0: int, width: int) -> None:
        """Internet egress through the NAT gateway: the NAT interface keeps the original packet addresses."""
        r = self.rng
        s, t = self._span(w0, width, 40)
        sport, nat_port = self._ephemeral(), r.randint(1024, 65535)
        req_p, resp_p = r.randint(5, 20), r.randint(6, 200)
        req_b, resp_b = req_p * r.randint(80, 300), resp_p * r.randint(500, 1400)
        out.append(self._rec(app, app.ip, dst, sport, 443, 6, req_p, req_b, s, t, "ACCEPT", "egress", 3, path="1"))
        out.append(self._rec(app, dst, app.ip, 443, sport, 6, resp_p, resp_b, s, t, "ACCEPT", "ingress", 19))
        out.append(
            self._rec(nat, app.ip, nat.ip, sport, 443, 6, req_p, req_b, s, t, "ACCEPT", "ingress", 3, pkt_dst=dst)
        )
        out.append(self._rec(nat, nat.ip, dst, nat_port, 443, 6, req_p, req_b, s, t, "ACCEPT", "egress", 3, path="8"))
        out.append(
            self._rec(
                nat,
                dst,
                nat.ip,
                443,
                nat_port,
                6,
                resp_p,
                resp_b,
                s,
                t,
                "ACCEPT",
                "ingress",
                19,
                service="AMAZON" if dst == "54.239.28.85" else "-",
            )
        )
        out.append(
            self._rec(
                nat,
                nat.ip,
                app.ip,
                443,
                sport,
                6,
                resp_p,
                resp_b,
                s,
                t,
                "ACCEPT",
                "egress",
                19,
                pkt_src=dst,
                path="1",
            )
        )

    def _brute_force(
        self,
        windows: dict[int, list[dict[str, str]]],
        width: int,
        src: str,
        eni: _Eni,
        port: int,
        begin: str,
        minutes: int,
        per_minute: int,
        opened: str | None,
    ) -> None:
        """One attempt per connection; rejected until `opened` (when the security group let it in)."""
        r = self.rng
        t0 = self.day0 + _clock(begin)
        open_at = self.day0 + _clock(opened) if opened else None
        for minute in range(minutes):
            for _ in range(per_minute + r.randint(-1, 1)):
                s = t0 + minute * 60 + r.randrange(60)
                w = (s - self.day0) // width * width
                end = min(s + r.randint(0, 3), self.day0 + w + width - 1)
                sport = self._ephemeral()
                if open_at is not None and s >= open_at:
                    p = r.randint(12, 30)
                    windows[w].append(
                        self._rec(
                            eni,
                            src,
                            eni.ip,
                            sport,
                            port,
                            6,
                            p,
                            p * r.randint(80, 120),
                            s,
                            end,
                            "ACCEPT",
                            "ingress",
                            3,
                        )
                    )
                    windows[w].append(
                        self._rec(
                            eni,
                            eni.ip,
                            src,
                            port,
                            sport,
                            6,
                            p,
                            p * r.randint(90, 160),
                            s,
                            end,
                            "ACCEPT",
                            "egress",
                            19,
                            path="8",
                        )
                    )
                else:
                    p = r.choice((1, 1, 2))
                    windows[w].append(
                        self._rec(eni, src, eni.ip, sport, port, 6, p, p * 60, s, end, "REJECT", "ingress", 2)
                    )

    def _port_scan(self, windows: dict[int, list[dict[str, str]]], eni: _Eni, begin: str, minutes: int) -> None:
        """One SYN per port; only the listener ports answer."""
        r = self.rng
        ports = sorted(set(range(1, 1025)) | {1433, 1521, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017})
        chosen = sorted(r.sample(ports, 640))
        for p in (22, 80, 443, 3389):
            if p not in chosen:
                chosen.append(p)
        r.shuffle(chosen)
        t0 = self.day0 + _clock(begin)
        sport = r.randint(40000, 65000)
        for i, port in enumerate(chosen):
            s = t0 + i * minutes * 60 // len(chosen)
            w = (s - self.day0) // 300 * 300
            self.scanned_ports.add(port)
            if port in (80, 443):
                windows[w].append(
                    self._rec(eni, PORT_SCANNER[0], eni.ip, sport, port, 6, 2, 84, s, s + 1, "ACCEPT", "ingress", 6)
                )
                windows[w].append(
                    self._rec(
                        eni,
                        eni.ip,
                        PORT_SCANNER[0],
                        port,
                        sport,
                        6,
                        1,
                        44,
                        s,
                        s + 1,
                        "ACCEPT",
                        "egress",
                        18,
                        path="8",
                    )
                )
            else:
                windows[w].append(
                    self._rec(eni, PORT_SCANNER[0], eni.ip, sport, port, 6, 1, 44, s, s, "REJECT", "ingress", 2)
                )


# --- CloudTrail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Principal:
    identity: dict[str, Any]
    name: str


class _CloudTrail:
    """Management events for both accounts, with the day's incidents woven into routine activity."""

    def __init__(self, rng: random.Random, estate: _Estate, day: dt.date, day0: int) -> None:
        self.rng = rng
        self.estate = estate
        self.day = day
        self.day0 = day0
        self.events: list[tuple[str, str, dict[str, Any]]] = []  # (account, region, record)
        self.objects: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.insight_counts: dict[str, int] = {}
        self.skipped: list[str] = []
        self.login_failures: Counter[str] = Counter()
        self.login_successes = 0
        self.root_logins = 0
        self.access_denied = 0
        self.event_names: Counter[str] = Counter()
        self.scenario_event_ids: dict[str, str] = {}
        self.sgr_ssh = "sgr-" + _hex(rng, 17)
        self.debug_sg = "sg-" + _hex(rng, 17)
        self.new_dev_instance = "i-" + _hex(rng, 17)
        self.tmp_user_id = "AIDA" + _upper(rng, 17)
        self.tmp_key = "AKIA" + _upper(rng, 16)
        self.users = {
            n: self._iam_user(acct, n)
            for acct, n in (
                (PROD, "alice"),
                (PROD, "bob"),
                (PROD, "carol"),
                (PROD, "svc-reporting"),
                (DEV, "dave"),
            )
        }
        self.root = _Principal(
            {
                "type": "Root",
                "principalId": PROD,
                "arn": f"arn:aws:iam::{PROD}:root",
                "accountId": PROD,
                "accessKeyId": "",
            },
            "root",
        )
        self.sso_dana = self._role(
            PROD,
            "AWSReservedSSO_ReadOnly_5f2c1e9a7b3d4c60",
            "dana@acme.example",
            "aws-reserved/sso.amazonaws.com/",
        )
        self.dev_terraform = self._role(DEV, "terraform-apply", "terraform-run-4711", "")
        self.dev_ci = self._role(DEV, "dev-ci-deploy", "GitHubActions", "")
        self.config_role = self._role(
            PROD, "AWSServiceRoleForConfig", "AWSConfig-Describe", "aws-service-role/config.amazonaws.com/"
        )
        self.eu_monitor = self._role(PROD, "monitoring-readonly", "prometheus-exporter", "")
        self.instance_roles = {
            n: self._role(PROD, "prod-ec2-ssm", e.instance_id, "")
            for n, e in estate.enis.items()
            if e.account == PROD and e.instance_id != "-"
        }

    # identities

    def _iam_user(self, account: str, name: str) -> _Principal:
        return _Principal(
            {
                "type": "IAMUser",
                "principalId": "AIDA" + _upper(self.rng, 17),
                "arn": f"arn:aws:iam::{account}:user/{name}",
                "accountId": account,
                "accessKeyId": "AKIA" + _upper(self.rng, 16),
                "userName": name,
            },
            name,
        )

    def _role(self, account: str, role: str, session: str, path: str) -> _Principal:
        role_id = "AROA" + _upper(self.rng, 17)
        return _Principal(
            {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                "accountId": account,
                "accessKeyId": "ASIA" + _upper(self.rng, 16),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": f"arn:aws:iam::{account}:role/{path}{role}",
                        "accountId": account,
                        "userName": role,
                    },
                    "webIdFederationData": {},
                    "attributes": {"creationDate": _iso(self.day0), "mfaAuthenticated": "false"},
                },
            },
            session,
        )

    # record builders

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _api(
        self,
        account: str,
        region: str,
        t: int,
        who: _Principal | str,
        source: str,
        name: str,
        ip: str,
        agent: str,
        request: Any,
        response: Any = None,
        *,
        read_only: bool,
        error: tuple[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        """One AwsApiCall record; `who` is a principal or the service that invoked the call."""
        if isinstance(who, str):
            identity: dict[str, Any] = {"type": "AWSService", "invokedBy": who}
        else:
            identity = who.identity
        service = source.split(".")[0]
        rec: dict[str, Any] = {
            "eventVersion": "1.09" if service in ("ec2", "s3") else "1.08",
            "userIdentity": identity,
            "eventTime": _iso(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error:
            rec["errorCode"], rec["errorMessage"] = error
            self.access_denied += error[0] in ACCESS_DENIED_CODES
        rec["requestParameters"] = request
        rec["responseElements"] = None if error else response
        rec.update(extra or {})
        rec["requestID"] = self._uuid()
        rec["eventID"] = self._uuid()
        rec["readOnly"] = read_only
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = True
        rec["recipientAccountId"] = account
        if isinstance(who, str):
            rec["sharedEventID"] = self._uuid()
        rec["eventCategory"] = "Management"
        if not isinstance(who, str) and not ip.endswith("amazonaws.com"):
            host = (
                f"{service}.amazonaws.com" if service in ("iam", "sts", "s3") else f"{service}.{region}.amazonaws.com"
            )
            rec["tlsDetails"] = {**TLS, "clientProvidedHostHeader": host}
        self.events.append((account, region, rec))
        self.event_names[name] += 1
        if tag:
            self.scenario_event_ids[tag] = rec["eventID"]
        return rec

    def _login(
        self,
        account: str,
        t: int,
        who: _Principal,
        ip: str,
        ok: bool,
        *,
        mfa: bool = True,
        agent: str = UA_BROWSER,
        unknown_user: bool = False,
    ) -> None:
        identity = dict(who.identity)
        identity["accessKeyId"] = ""
        if unknown_user:
            # AWS hides the typed name when it matches no user, so it never leaks a password.
            identity = {
                "type": "IAMUser",
                "accountId": account,
                "accessKeyId": "",
                "userName": "HIDDEN_DUE_TO_SECURITY_REASONS",
            }
        rec: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": _iso(t),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": REGION,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if not ok:
            rec["errorMessage"] = "No username found in supplied account" if unknown_user else "Failed authentication"
        rec["requestParameters"] = None
        rec["responseElements"] = {"ConsoleLogin": "Success" if ok else "Failure"}
        login_to = (
            "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"
            + _hex(self.rng, 16)
        )
        rec["additionalEventData"] = {
            "LoginTo": login_to,
            "MobileVersion": "No",
            "MFAUsed": "Yes" if ok and mfa else "No",
        }
        if ok and mfa:
            rec["additionalEventData"]["MFAIdentifier"] = (
                f"arn:aws:iam::{account}:mfa/{who.name}"
                if who.name != "root"
                else f"arn:aws:iam::{account}:mfa/root-account-mfa-device"
            )
        rec.update(
            {
                "eventID": self._uuid(),
                "readOnly": False,
                "eventType": "AwsConsoleSignIn",
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
                "tlsDetails": {**TLS, "clientProvidedHostHeader": "signin.aws.amazon.com"},
            }
        )
        self.events.append((account, REGION, rec))
        self.event_names["ConsoleLogin"] += 1
        if ok:
            self.login_successes += 1
            self.root_logins += identity["type"] == "Root"
        else:
            self.login_failures[identity["userName"]] += 1

    # the day

    def generate(self) -> None:
        stop, start = _clock("02:13:07"), _clock("02:58:41")
        self._routine_prod(stop, start)
        self._routine_dev()
        self._routine_eu(stop, start)
        self._incidents(stop, start)
        self._write_trail_files()
        self._write_insights()
        self._write_digest()

    def _routine_prod(self, stop: int, start: int) -> None:
        r, e = self.rng, self.estate
        for w in range(0, 86400, 300):
            # A stopped trail records nothing: the gap is part of the evidence.
            if stop < w + 300 and w < start:
                continue
            load = HOURLY_LOAD[w // 3600]
            for _ in range(int(8 * load * r.uniform(0.6, 1.4)) + 1):
                t = self.day0 + w + r.randrange(300)
                if t - self.day0 in range(stop, start):
                    continue
                self._routine_call(t, r.random())
            if r.random() < 0.5:
                name, eni = r.choice(sorted(self.instance_roles.items()))
                del eni
                inst = e.enis[name]
                self._api(
                    PROD,
                    REGION,
                    self.day0 + w + r.randrange(300),
                    self.instance_roles[name],
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
                    extra={"vpcEndpointId": "vpce-" + _hex(r, 17)},
                )

    def _routine_call(self, t: int, roll: float) -> None:
        r, e = self.rng, self.estate
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
            self._api(
                PROD,
                REGION,
                t,
                self.sso_dana,
                "ec2.amazonaws.com",
                name,
                OFFICE_IP,
                "AWS Internal",
                req,
                read_only=True,
                extra={"sessionCredentialFromConsole": "true"},
            )
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
            self._api(
                PROD,
                REGION,
                t,
                self.config_role,
                "ec2.amazonaws.com",
                name,
                "config.amazonaws.com",
                "config.amazonaws.com",
                req,
                read_only=True,
            )
        elif roll < 0.6:
            inst = r.choice([x for x in e.enis.values() if x.account == PROD and x.instance_id != "-"])
            self._api(
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
                        "accessKeyId": "ASIA" + _upper(r, 16),
                        "sessionToken": "IQoJb3JpZ2luX2VjE" + _alnum(r, 40),
                        "expiration": _iam_date(t + 6 * 3600),
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
            self._api(
                PROD,
                REGION,
                t,
                self.users["svc-reporting"],
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
                        "x-amz-id-2": _alnum(r, 56),
                        "bytesTransferredOut": 0,
                    }
                },
            )
        elif roll < 0.85:
            name = r.choice(("ListUsers", "GetAccountSummary", "ListRoles", "GetAccountPasswordPolicy"))
            self._api(
                PROD,
                REGION,
                t,
                self.sso_dana,
                "iam.amazonaws.com",
                name,
                OFFICE_IP,
                "AWS Internal",
                None,
                read_only=True,
                extra={"sessionCredentialFromConsole": "true"},
            )
        elif roll < 0.95:
            self._api(
                PROD,
                REGION,
                t,
                self.users["svc-reporting"],
                "elasticloadbalancing.amazonaws.com",
                "DescribeTargetHealth",
                PROD_NAT_IP,
                UA_BOTO,
                {
                    "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{PROD}:targetgroup/"
                    "prod-web/6d0ecf831eec9f09"
                },
                read_only=True,
            )
        else:
            self._api(
                PROD,
                REGION,
                t,
                self.users["svc-reporting"],
                "sts.amazonaws.com",
                "GetCallerIdentity",
                PROD_NAT_IP,
                UA_BOTO,
                None,
                read_only=True,
            )

    def _routine_dev(self) -> None:
        r = self.rng
        req: dict[str, Any]
        for w in range(0, 86400, 300):
            load = HOURLY_LOAD[w // 3600]
            for _ in range(int(2.5 * load * r.uniform(0.5, 1.5))):
                t = self.day0 + w + r.randrange(300)
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
                self._api(
                    DEV,
                    REGION,
                    t,
                    self.dev_terraform,
                    "ec2.amazonaws.com",
                    name,
                    OFFICE_IP,
                    UA_TERRAFORM,
                    req,
                    read_only=True,
                )

    def _routine_eu(self, stop: int, start: int) -> None:
        r = self.rng
        req: dict[str, Any]
        for w in range(0, 86400, 900):
            t = self.day0 + w + r.randrange(900)
            if stop <= t - self.day0 <= start:
                continue  # the trail is multi-region, so stopping it silences eu-west-1 as well
            name, req = r.choice(
                (
                    ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                    ("DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
                )
            )
            self._api(
                PROD,
                EU_REGION,
                t,
                self.eu_monitor,
                "ec2.amazonaws.com",
                name,
                PROD_NAT_IP,
                UA_BOTO,
                req,
                read_only=True,
            )
        for hhmm in ("09:41:12", "09:41:13", "09:42:40"):
            self._api(
                PROD,
                EU_REGION,
                self.day0 + _clock(hhmm),
                self.users["carol"],
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

    def _incidents(self, stop: int, start: int) -> None:
        r, e, d0 = self.rng, self.estate, self.day0
        svc, alice, bob, carol = (self.users[n] for n in ("svc-reporting", "alice", "bob", "carol"))
        cn, ru, br = BRUTE_FORCE_SSH[0][0], BRUTE_FORCE_RDP[0][0], BRUTE_FORCE_SSH[1][0]
        trail_arn = f"arn:aws:cloudtrail:{REGION}:{PROD}:trail/{TRAIL_NAME}"

        # A leaked reporting key used from abroad: reconnaissance, denied secrets, then the trail stopped.
        self._api(
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
            self._api(
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
        self._api(
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
        self._api(
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
        self._api(
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
        self._api(
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

        # Password guessing against the console.
        for i in range(6):
            self._login(PROD, d0 + _clock("03:12:00") + i * 41 + r.randrange(20), alice, cn, False, mfa=False)
        for i in range(3):
            self._login(PROD, d0 + _clock("03:31:10") + i * 23, alice, cn, False, mfa=False, unknown_user=True)
        for i in range(4):
            self._login(PROD, d0 + _clock("04:20:05") + i * 57, alice, ru, False, mfa=False, agent=UA_BROWSER_WIN)
        for i in range(3):
            self._login(PROD, d0 + _clock("11:20:30") + i * 33, svc, br, False, mfa=False)

        # The working day's sign-ins, one of them the root user.
        self._login(PROD, d0 + _clock("07:45:12"), self.root, OFFICE_IP, True)
        self._api(
            PROD,
            REGION,
            d0 + _clock("07:46:03"),
            self.root,
            "iam.amazonaws.com",
            "GetAccountSummary",
            OFFICE_IP,
            "AWS Internal",
            None,
            read_only=True,
            extra={"sessionCredentialFromConsole": "true"},
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("07:47:30"),
            self.root,
            "iam.amazonaws.com",
            "ListMFADevices",
            OFFICE_IP,
            "AWS Internal",
            None,
            read_only=True,
            extra={"sessionCredentialFromConsole": "true"},
        )
        self._login(PROD, d0 + _clock("08:02:44"), alice, OFFICE_IP, True)
        self._login(PROD, d0 + _clock("08:55:01"), bob, BOB_IP, False, mfa=False)
        self._login(PROD, d0 + _clock("08:55:40"), bob, BOB_IP, False, mfa=False)
        self._login(PROD, d0 + _clock("08:56:12"), bob, BOB_IP, True)
        self._login(PROD, d0 + _clock("09:30:27"), carol, CAROL_IP, True, agent=UA_BROWSER_WIN)
        self._login(DEV, d0 + _clock("09:08:19"), self.users["dave"], DAVE_IP, False, mfa=False)
        self._login(DEV, d0 + _clock("09:10:02"), self.users["dave"], DAVE_IP, True)

        # A marketing bucket made world-readable.
        self._api(
            PROD,
            REGION,
            d0 + _clock("10:15:22"),
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
        self._api(
            PROD,
            REGION,
            d0 + _clock("10:31:05"),
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
                + _alnum(r, 64),
            ),
        )

        # SSH opened to the world on the bastion while debugging, and closed again later.
        self._api(
            PROD,
            REGION,
            d0 + _clock("14:01:37"),
            bob,
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            BOB_IP,
            "AWS Internal",
            {"groupName": "temp-debug-sg", "groupDescription": "temporary debugging", "vpcId": e.prod_vpc},
            {"requestId": self._uuid(), "_return": True, "groupId": self.debug_sg},
            read_only=False,
            tag="CreateSecurityGroup",
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("14:03:02"),
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
                "requestId": self._uuid(),
                "_return": True,
                "securityGroupRuleSet": {
                    "items": [
                        {
                            "groupOwnerId": PROD,
                            "groupId": e.sg["bastion-sg"],
                            "securityGroupRuleId": self.sgr_ssh,
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
        self._api(
            PROD,
            REGION,
            d0 + _clock("14:04:11"),
            bob,
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            BOB_IP,
            "AWS Internal",
            {
                "groupId": self.debug_sg,
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
                "requestId": self._uuid(),
                "_return": True,
                "securityGroupRuleSet": {
                    "items": [
                        {
                            "groupOwnerId": PROD,
                            "groupId": self.debug_sg,
                            "securityGroupRuleId": "sgr-" + _hex(r, 17),
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
        self._api(
            PROD,
            REGION,
            d0 + _clock("16:40:18"),
            alice,
            "ec2.amazonaws.com",
            "RevokeSecurityGroupIngress",
            OFFICE_IP,
            UA_CLI.format(cmd="ec2.revoke-security-group-ingress"),
            {
                "groupId": e.sg["bastion-sg"],
                "securityGroupRuleIds": {"items": [{"securityGroupRuleId": self.sgr_ssh}]},
            },
            {"requestId": self._uuid(), "_return": True},
            read_only=False,
            tag="RevokeSecurityGroupIngress",
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("16:45:50"),
            alice,
            "ec2.amazonaws.com",
            "DeleteSecurityGroup",
            OFFICE_IP,
            UA_CLI.format(cmd="ec2.delete-security-group"),
            {"groupId": self.debug_sg},
            {"requestId": self._uuid(), "_return": True},
            read_only=False,
            tag="DeleteSecurityGroup",
        )

        # A support user with administrator rights, created and removed the same day.
        user = "tmp-support"
        arn = f"arn:aws:iam::{PROD}:user/{user}"
        admin = "arn:aws:iam::aws:policy/AdministratorAccess"
        cli = UA_CLI.format
        self._api(
            PROD,
            REGION,
            d0 + _clock("15:10:12"),
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
                    "userId": self.tmp_user_id,
                    "arn": arn,
                    "createDate": _iam_date(d0 + _clock("15:10:12")),
                }
            },
            read_only=False,
            tag="CreateUser",
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("15:11:03"),
            bob,
            "iam.amazonaws.com",
            "AttachUserPolicy",
            BOB_IP,
            cli(cmd="iam.attach-user-policy"),
            {"userName": user, "policyArn": admin},
            read_only=False,
            tag="AttachUserPolicy",
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("15:12:40"),
            bob,
            "iam.amazonaws.com",
            "CreateAccessKey",
            BOB_IP,
            cli(cmd="iam.create-access-key"),
            {"userName": user},
            {
                "accessKey": {
                    "userName": user,
                    "accessKeyId": self.tmp_key,
                    "status": "Active",
                    "createDate": _iam_date(d0 + _clock("15:12:40")),
                }
            },
            read_only=False,
            tag="CreateAccessKey",
        )
        policy = (
            '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}'
        )
        self._api(
            PROD,
            REGION,
            d0 + _clock("15:14:21"),
            bob,
            "iam.amazonaws.com",
            "PutUserPolicy",
            BOB_IP,
            cli(cmd="iam.put-user-policy"),
            {"userName": user, "policyName": "support-s3", "policyDocument": policy},
            read_only=False,
            tag="PutUserPolicy",
        )
        for hhmm, name, req in (
            ("17:30:02", "DeleteAccessKey", {"userName": user, "accessKeyId": self.tmp_key}),
            ("17:30:09", "DetachUserPolicy", {"userName": user, "policyArn": admin}),
            ("17:30:15", "DeleteUserPolicy", {"userName": user, "policyName": "support-s3"}),
            ("17:30:22", "DeleteUser", {"userName": user}),
        ):
            self._api(
                PROD,
                REGION,
                d0 + _clock(hhmm),
                alice,
                "iam.amazonaws.com",
                name,
                OFFICE_IP,
                cli(cmd="iam." + _kebab(name)),
                req,
                read_only=False,
                tag=name,
            )

        # Dev: a CI role without launch rights retries in a loop (the Insights event), then Terraform works.
        for i in range(42):
            self._api(
                DEV,
                REGION,
                d0 + _clock("10:00:05") + i * 14,
                self.dev_ci,
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
                    "Encoded authorization failure message: " + _alnum(r, 48),
                ),
            )
        launch = d0 + _clock("11:30:44")
        self._api(
            DEV,
            REGION,
            launch,
            self.dev_terraform,
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
                "requestId": self._uuid(),
                "reservationId": "r-" + _hex(r, 17),
                "ownerId": DEV,
                "instancesSet": {
                    "items": [
                        {
                            "instanceId": self.new_dev_instance,
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
        self._api(
            DEV,
            REGION,
            d0 + _clock("18:00:30"),
            self.dev_terraform,
            "ec2.amazonaws.com",
            "TerminateInstances",
            OFFICE_IP,
            UA_TERRAFORM,
            {"instancesSet": {"items": [{"instanceId": self.new_dev_instance}]}},
            {
                "requestId": self._uuid(),
                "instancesSet": {
                    "items": [
                        {
                            "instanceId": self.new_dev_instance,
                            "currentState": {"code": 32, "name": "shutting-down"},
                            "previousState": {"code": 16, "name": "running"},
                        }
                    ]
                },
            },
            read_only=False,
            tag="TerminateInstances",
        )

    # files

    def _write_trail_files(self) -> None:
        groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for account, region, rec in self.events:
            t = _epoch(rec["eventTime"])
            groups.setdefault((account, region, (t - self.day0) // 300 * 300), []).append(rec)
        self.files_by_account: dict[tuple[str, str], list[tuple[str, bytes, list[dict[str, Any]]]]] = {}
        for (account, region, w), recs in sorted(groups.items()):
            recs.sort(key=lambda x: x["eventTime"])
            stamp = dt.datetime.fromtimestamp(self.day0 + w, dt.UTC).strftime("%Y%m%dT%H%MZ")
            key = (
                f"AWSLogs/{account}/CloudTrail/{region}/{self.day:%Y/%m/%d}/"
                f"{account}_CloudTrail_{region}_{stamp}_{_alnum(self.rng, 16)}.json.gz"
            )
            raw = _compact({"Records": recs})
            self.objects[key] = _gzip(raw)
            self.counts[key] = len(recs)
            self.files_by_account.setdefault((account, region), []).append((key, raw, recs))

    def _write_insights(self) -> None:
        d0 = self.day0
        shared = self._uuid()
        dev_ci_arn = self.dev_ci.identity["sessionContext"]["sessionIssuer"]["arn"]
        records = []
        for state, at in (("Start", "10:00:00"), ("End", "10:11:00")):
            stats: dict[str, Any] = {"baseline": {"average": 0.0123}, "insight": {"average": 3.8182}}
            stats["insightDuration"] = 11
            if state == "End":
                stats["baselineDuration"] = 10079
            records.append(
                {
                    "eventVersion": "1.08",
                    "eventTime": _iso(d0 + _clock(at)),
                    "awsRegion": REGION,
                    "eventID": self._uuid(),
                    "eventType": "AwsCloudTrailInsight",
                    "recipientAccountId": DEV,
                    "sharedEventID": shared,
                    "insightDetails": {
                        "state": state,
                        "eventSource": "ec2.amazonaws.com",
                        "eventName": "RunInstances",
                        "insightType": "ApiCallErrorRateInsight",
                        "errorCode": "Client.UnauthorizedOperation",
                        "insightContext": {
                            "statistics": stats,
                            "attributions": [
                                {
                                    "attribute": "userIdentityArn",
                                    "insight": [{"value": dev_ci_arn, "average": 3.8182}],
                                    "baseline": [{"value": dev_ci_arn, "average": 0.0123}],
                                },
                                {
                                    "attribute": "userAgent",
                                    "insight": [{"value": UA_BOTO, "average": 3.8182}],
                                    "baseline": [{"value": UA_BOTO, "average": 0.0123}],
                                },
                                {
                                    "attribute": "errorCode",
                                    "insight": [{"value": "Client.UnauthorizedOperation", "average": 3.8182}],
                                    "baseline": [{"value": "Client.UnauthorizedOperation", "average": 0.0123}],
                                },
                            ],
                        },
                    },
                    "eventCategory": "Insight",
                }
            )
        key = (
            f"AWSLogs/{DEV}/CloudTrail-Insight/{REGION}/{self.day:%Y/%m/%d}/"
            f"{DEV}_CloudTrail-Insight_{REGION}_{self.day:%Y%m%d}T1025Z_{_alnum(self.rng, 16)}.json.gz"
        )
        self.objects[key] = _gzip(_compact({"Records": records}))
        self.insight_counts[key] = len(records)

    def _write_digest(self) -> None:
        """An hourly digest for prod us-east-1 covering 02:00-03:00, which the reader must skip."""
        begin, end = self.day0 + 2 * 3600, self.day0 + 3 * 3600
        files = [
            (k, raw, recs)
            for k, raw, recs in self.files_by_account[(PROD, REGION)]
            if begin <= _epoch(recs[0]["eventTime"]) < end
        ]
        stamp = dt.datetime.fromtimestamp(end, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        prefix = f"AWSLogs/{PROD}/CloudTrail-Digest/{REGION}/{self.day:%Y/%m/%d}/"
        key = f"{prefix}{PROD}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{stamp}.json.gz"
        prev = dt.datetime.fromtimestamp(begin, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        all_recs = [rec for _, _, recs in files for rec in recs]
        digest = {
            "awsAccountId": PROD,
            "digestStartTime": _iso(begin),
            "digestEndTime": _iso(end),
            "digestS3Bucket": LOG_BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": _hex(self.rng, 32),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": max(x["eventTime"] for x in all_recs),
            "oldestEventTime": min(x["eventTime"] for x in all_recs),
            "previousDigestS3Bucket": LOG_BUCKET,
            "previousDigestS3Object": (
                f"{prefix}{PROD}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{prev}.json.gz"
            ),
            "previousDigestHashValue": _hex(self.rng, 64),
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": _hex(self.rng, 512),
            "logFiles": [
                {
                    "s3Bucket": LOG_BUCKET,
                    "s3Object": k,
                    "hashValue": hashlib.sha256(raw).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": recs[-1]["eventTime"],
                    "oldestEventTime": recs[0]["eventTime"],
                }
                for k, raw, recs in files
            ],
        }
        self.objects[key] = _gzip(_compact(digest))
        self.skipped.append(key)


# --- AWS Config ----------------------------------------------------------------------------------


class _Config:
    """Configuration history, one snapshot, compliance results and two SNS notifications."""

    def __init__(
        self,
        rng: random.Random,
        estate: _Estate,
        day: dt.date,
        day0: int,
        event_ids: dict[str, str],
        debug_sg: str,
        new_instance: str,
        tmp_user_id: str,
    ) -> None:
        self.tmp_user_id = tmp_user_id
        self.rng = rng
        self.debug_sg = debug_sg
        self.new_instance = new_instance
        self.estate = estate
        self.day = day
        self.day0 = day0
        self.event_ids = event_ids
        self.objects: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.non_compliant: set[tuple[str, str, str]] = set()
        self.notifications: list[str] = []
        self.skipped: list[str] = []
        self.history: list[tuple[str, str, dict[str, Any]]] = []  # (account, file region, item)
        self.rule_ids = {
            n: "config-rule-" + _lower(rng, 6)
            for n in (
                "restricted-ssh",
                "s3-bucket-public-read-prohibited",
                "encrypted-volumes",
                "ec2-imdsv2-check",
            )
        }

    def _item(
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
        ms = t * 1000 + self.rng.randrange(1000)
        return {
            "relatedEvents": related or [],
            "relationships": relationships or [],
            "configuration": configuration,
            "supplementaryConfiguration": supplementary or {},
            "tags": tags or {},
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": _iso_ms(ms),
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
            else hashlib.md5(_compact(configuration), usedforsecurity=False).hexdigest(),
            "resourceCreationTime": _iso_ms(created * 1000) if created is not None else None,
        }

    def _sg(
        self, t: int, status: str, name: str, gid: str, rules: list[tuple[int, str]], related: list[str]
    ) -> dict[str, Any]:
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
        return self._item(
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
            relationships=[
                {
                    "resourceId": e.prod_vpc,
                    "resourceName": None,
                    "resourceType": "AWS::EC2::VPC",
                    "name": "Is contained in Vpc",
                }
            ],
            created=None,
        )

    def _compliance(self, account: str, t: int, rule: str, rtype: str, rid: str, result: str) -> dict[str, Any]:
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
        return self._item(
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
            relationships=[
                {
                    "resourceId": rid,
                    "resourceName": None,
                    "resourceType": rtype,
                    "name": "Is associated with ",
                }
            ],
        )

    def _instance(
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
        config = (
            None
            if status == "ResourceDeleted"
            else {
                "amiLaunchIndex": 0,
                "imageId": "ami-0fff1b9a61dec8a5f",
                "instanceId": iid,
                "instanceType": "t3.medium",
                "launchTime": _iso_ms(created * 1000),
                "placement": {"availabilityZone": az, "tenancy": "default"},
                "privateIpAddress": ip,
                "state": {"code": {"running": 16, "stopped": 80, "pending": 0}[state], "name": state},
                "subnetId": subnet,
                "vpcId": vpc,
                "tags": [{"key": "Name", "value": name}],
                "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
            }
        )
        return self._item(
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
                {
                    "resourceId": subnet,
                    "resourceName": None,
                    "resourceType": "AWS::EC2::Subnet",
                    "name": "Is contained in Subnet",
                },
                {
                    "resourceId": vpc,
                    "resourceName": None,
                    "resourceType": "AWS::EC2::VPC",
                    "name": "Is contained in Vpc",
                },
            ],
            created=created,
        )

    def _bucket(
        self, account: str, region: str, t: int, name: str, public: bool, related: list[str] | None = None
    ) -> dict[str, Any]:
        owner = _hex(self.rng, 64)
        grants: list[dict[str, Any]] = [{"grantee": {"id": owner, "displayName": None}, "permission": "FullControl"}]
        if public:
            grants.append({"grantee": "AllUsers", "permission": "Read"})
        acl = {
            "grantSet": None,
            "grantList": grants,
            "owner": {"displayName": None, "id": owner},
            "isRequesterCharged": False,
        }
        return self._item(
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
                "creationDate": _iso_ms((self.day0 - 400 * 86400) * 1000),
            },
            related=related,
            supplementary={
                "AccessControlList": _compact(acl).decode(),
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

    def _iam_user(self, t: int, status: str, related: list[str], admin: bool, inline: bool) -> dict[str, Any]:
        arn = f"arn:aws:iam::{PROD}:user/tmp-support"
        config = (
            None
            if status == "ResourceDeleted"
            else {
                "path": "/",
                "userName": "tmp-support",
                "userId": self.tmp_user_id,
                "arn": arn,
                "createDate": _iso_ms((self.day0 + _clock("15:10:12")) * 1000),
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
        return self._item(
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

    def generate(self) -> None:
        e, ids, d0 = self.estate, self.event_ids, self.day0
        office = f"{OFFICE_IP}/32"
        bastion, debug = e.sg["bastion-sg"], self.debug_sg
        h = self.history
        h.append(
            (
                PROD,
                REGION,
                self._sg(
                    d0 + _clock("14:02:10"),
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
                self._sg(
                    d0 + _clock("14:03:48"),
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
                self._sg(
                    d0 + _clock("14:04:52"),
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
                self._sg(
                    d0 + _clock("16:41:03"),
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
                self._sg(
                    d0 + _clock("16:46:31"),
                    "ResourceDeleted",
                    "temp-debug-sg",
                    debug,
                    [],
                    [ids["DeleteSecurityGroup"]],
                ),
            )
        )
        sg_type = "AWS::EC2::SecurityGroup"
        non_compliant_ssh = self._compliance(
            PROD, d0 + _clock("14:05:20"), "restricted-ssh", sg_type, bastion, "NON_COMPLIANT"
        )
        h.append((PROD, REGION, non_compliant_ssh))
        h.append(
            (
                PROD,
                REGION,
                self._compliance(PROD, d0 + _clock("16:42:37"), "restricted-ssh", sg_type, bastion, "COMPLIANT"),
            )
        )
        h.append(
            (
                PROD,
                REGION,
                self._bucket(
                    PROD,
                    REGION,
                    d0 + _clock("10:16:02"),
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
                self._compliance(
                    PROD,
                    d0 + _clock("10:17:45"),
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
                self._iam_user(
                    d0 + _clock("15:16:30"),
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
                self._iam_user(d0 + _clock("17:36:12"), "ResourceDeleted", [ids["DeleteUser"]], False, False),
            )
        )
        batch = e.enis["batch"]
        for hhmm, state in (("20:00:41", "stopped"), ("21:15:09", "running")):
            h.append(
                (
                    PROD,
                    REGION,
                    self._instance(
                        PROD,
                        d0 + _clock(hhmm),
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
        launched = d0 + _clock("11:30:44")
        h.append(
            (
                DEV,
                REGION,
                self._instance(
                    DEV,
                    d0 + _clock("11:31:30"),
                    "ResourceDiscovered",
                    self.new_instance,
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
                self._instance(
                    DEV,
                    d0 + _clock("18:01:55"),
                    "ResourceDeleted",
                    self.new_instance,
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
                self._bucket(PROD, EU_REGION, d0 + _clock("05:12:19"), "acme-prod-eu-backups", False),
            )
        )
        self._write_history()
        self._write_snapshot()
        self._write_notifications(non_compliant_ssh, bastion, office)
        key = f"AWSLogs/{PROD}/Config/ConfigWritabilityCheckFile"
        self.objects[key] = b"ConfigWritabilityCheckFile\n"
        self.skipped.append(key)

    def _prefix(self, account: str, region: str) -> str:
        # Config, unlike CloudTrail and flow logs, does not zero-pad month and day in its prefix.
        return f"AWSLogs/{account}/Config/{region}/{self.day.year}/{self.day.month}/{self.day.day}/"

    def _write_history(self) -> None:
        groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
        for account, region, item in self.history:
            t = item["configurationStateId"] // 1000
            groups.setdefault((account, region, item["resourceType"], (t - self.day0) // 21600), []).append(item)
        for (account, region, rtype, _), items in sorted(groups.items()):
            items.sort(key=lambda i: i["configurationStateId"])
            first = _stamp(items[0]["configurationStateId"] // 1000)
            last = _stamp(items[-1]["configurationStateId"] // 1000)
            key = (
                f"{self._prefix(account, region)}ConfigHistory/"
                f"{account}_Config_{region}_ConfigHistory_{rtype}_{first}_{last}_1.json.gz"
            )
            self._put(key, {"fileVersion": "1.0", "configurationItems": items})

    def _put(self, key: str, body: dict[str, Any]) -> None:
        self.objects[key] = _gzip(_compact(body))
        self.counts[key] = len(body["configurationItems"])
        for item in body["configurationItems"]:
            if item["resourceType"] == "AWS::Config::ResourceCompliance":
                conf = item["configuration"]
                for rule in conf["configRuleList"]:
                    if rule["complianceType"] == "NON_COMPLIANT":
                        self.non_compliant.add(
                            (rule["configRuleName"], conf["targetResourceType"], conf["targetResourceId"])
                        )

    def _write_snapshot(self) -> None:
        """Every prod us-east-1 resource as of the daily snapshot, with its rule evaluations."""
        e, r, d0 = self.estate, self.rng, self.day0
        t = d0 + _clock("06:05:12")
        old = d0 - 200 * 86400
        items: list[dict[str, Any]] = []
        items.append(
            self._item(
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
                    "dhcpOptionsId": "dopt-" + _hex(r, 17),
                    "state": "available",
                    "vpcId": e.prod_vpc,
                    "ownerId": PROD,
                    "instanceTenancy": "default",
                    "isDefault": False,
                },
                tags={"Name": "prod"},
                created=old,
            )
        )
        for name, (sid, vpc, cidr, az, az_id) in sorted(e.subnets.items()):
            if vpc != e.prod_vpc:
                continue
            items.append(
                self._item(
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
                    relationships=[
                        {
                            "resourceId": vpc,
                            "resourceName": None,
                            "resourceType": "AWS::EC2::VPC",
                            "name": "Is contained in Vpc",
                        }
                    ],
                    created=old,
                )
            )
        office = f"{OFFICE_IP}/32"
        sg_rules = {
            "alb-sg": [(443, "0.0.0.0/0"), (80, "0.0.0.0/0")],
            "web-sg": [(443, "10.0.0.0/16")],
            "bastion-sg": [(22, office)],
            "app-sg": [(8443, "10.0.0.0/16")],
            "db-sg": [(3306, "10.0.10.0/23"), (5432, "10.0.10.0/23"), (6379, "10.0.10.0/23")],
        }
        for name, rules in sg_rules.items():
            items.append(self._sg(t, "OK", name, e.sg[name], rules, []))
            items.append(
                self._compliance(PROD, t, "restricted-ssh", "AWS::EC2::SecurityGroup", e.sg[name], "COMPLIANT")
            )
        for eni in sorted(e.enis.values(), key=lambda x: x.name):
            if eni.account != PROD:
                continue
            items.append(
                self._item(
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
                    relationships=[
                        {
                            "resourceId": eni.subnet_id,
                            "resourceName": None,
                            "resourceType": "AWS::EC2::Subnet",
                            "name": "Is contained in Subnet",
                        }
                    ],
                    created=old,
                )
            )
            if eni.instance_id == "-":
                continue
            items.append(
                self._instance(
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
            vol = "vol-" + _hex(r, 17)
            items.append(
                self._item(
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
                    relationships=[
                        {
                            "resourceId": eni.instance_id,
                            "resourceName": None,
                            "resourceType": "AWS::EC2::Instance",
                            "name": "Is attached to Instance",
                        }
                    ],
                    created=old + 3600,
                )
            )
            items.append(
                self._compliance(
                    PROD,
                    t,
                    "encrypted-volumes",
                    "AWS::EC2::Volume",
                    vol,
                    "COMPLIANT" if eni.name != "batch" else "NON_COMPLIANT",
                )
            )
            items.append(
                self._compliance(PROD, t, "ec2-imdsv2-check", "AWS::EC2::Instance", eni.instance_id, "COMPLIANT")
            )
        for user in ("alice", "bob", "carol", "svc-reporting"):
            uid = "AIDA" + _upper(r, 17)
            items.append(
                self._item(
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
                        "createDate": _iso_ms(old * 1000),
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
            rid = "AROA" + _upper(r, 17)
            arn = f"arn:aws:iam::{PROD}:role{path}{role}"
            items.append(
                self._item(
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
                        "createDate": _iso_ms(old * 1000),
                        "rolePolicyList": [],
                        "attachedManagedPolicies": [],
                        "instanceProfileList": [],
                        "permissionsBoundary": None,
                        "tags": [],
                    },
                    created=old,
                )
            )
        for rtype, prefix, arn_kind in (
            ("AWS::EC2::InternetGateway", "igw-", "internet-gateway"),
            ("AWS::EC2::NatGateway", "nat-", "natgateway"),
            ("AWS::EC2::RouteTable", "rtb-", "route-table"),
            ("AWS::EC2::RouteTable", "rtb-", "route-table"),
            ("AWS::EC2::NetworkAcl", "acl-", "network-acl"),
        ):
            rid = prefix + _hex(r, 17)
            items.append(
                self._item(
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
                    relationships=[
                        {
                            "resourceId": e.prod_vpc,
                            "resourceName": None,
                            "resourceType": "AWS::EC2::VPC",
                            "name": "Is contained in Vpc",
                        }
                    ],
                    created=old,
                )
            )
        for bucket in ("acme-prod-app-data", "acme-prod-marketing-assets", LOG_BUCKET):
            items.append(self._bucket(PROD, REGION, t, bucket, False))
            items.append(
                self._compliance(PROD, t, "s3-bucket-public-read-prohibited", "AWS::S3::Bucket", bucket, "COMPLIANT")
            )
        items.append(
            self._item(
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
        )
        items.append(
            self._item(
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
        )
        snapshot_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
        key = (
            f"{self._prefix(PROD, REGION)}ConfigSnapshot/"
            f"{PROD}_Config_{REGION}_ConfigSnapshot_{_stamp(t)}_{snapshot_id}.json.gz"
        )
        self._put(key, {"fileVersion": "1.0", "configSnapshotId": snapshot_id, "configurationItems": items})

    def _sns(self, t: int, subject: str, message: dict[str, Any]) -> bytes:
        r = self.rng
        topic = f"arn:aws:sns:{REGION}:{PROD}:config-notifications"
        envelope = {
            "Type": "Notification",
            "MessageId": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "TopicArn": topic,
            "Subject": subject,
            "Message": _compact(message).decode(),
            "Timestamp": _iso_ms(t * 1000 + r.randrange(1000)),
            "SignatureVersion": "1",
            "Signature": _alnum(r, 342) + "==",
            "SigningCertURL": (f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-{_hex(r, 32)}.pem"),
            "UnsubscribeURL": (
                f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:"
                + str(uuid.UUID(int=r.getrandbits(128), version=4))
            ),
        }
        # SNS pretty-prints its envelope with a space before each colon.
        return (json.dumps(envelope, indent=2, separators=(",", " : ")) + "\n").encode()

    def _write_notifications(self, non_compliant: dict[str, Any], bastion: str, office: str) -> None:
        d0 = self.day0
        changed = next(
            i
            for a, _, i in self.history
            if i["resourceId"] == bastion and len(i["configuration"]["ipPermissions"]) == 2
        )
        diff = {
            "changedProperties": {
                "Configuration.IpPermissions.1": {
                    "previousValue": None,
                    "updatedValue": changed["configuration"]["ipPermissions"][1],
                    "changeType": "CREATE",
                }
            },
            "changeType": "UPDATE",
        }
        t = d0 + _clock("14:03:50")
        item_message = {
            "configurationItemDiff": diff,
            "configurationItem": changed,
            "notificationCreationTime": _iso_ms(t * 1000 + 412),
            "messageType": "ConfigurationItemChangeNotification",
            "recordVersion": "1.3",
        }
        key = "sqs-notifications/config-item-change-bastion-sg.json"
        self.objects[key] = self._sns(
            t,
            f"[AWS Config:{REGION}] AWS::EC2::SecurityGroup {bastion} Updated in Account {PROD}",
            item_message,
        )
        self.notifications.append(key)
        rule = non_compliant["configuration"]["configRuleList"][0]
        recorded = non_compliant["configurationItemCaptureTime"]
        qualifier = {
            "configRuleName": rule["configRuleName"],
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": bastion,
        }
        t = d0 + _clock("14:05:21")
        compliance_message = {
            "awsAccountId": PROD,
            "configRuleName": rule["configRuleName"],
            "configRuleARN": rule["configRuleArn"],
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": bastion,
            "awsRegion": REGION,
            "newEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": qualifier,
                    "orderingTimestamp": recorded,
                },
                "complianceType": "NON_COMPLIANT",
                "resultRecordedTime": recorded,
                "configRuleInvokedTime": _iso_ms((d0 + _clock("14:05:18")) * 1000),
                "annotation": None,
                "resultToken": None,
            },
            "oldEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": qualifier,
                    "orderingTimestamp": _iso_ms((d0 + _clock("06:05:12")) * 1000),
                },
                "complianceType": "COMPLIANT",
                "resultRecordedTime": _iso_ms((d0 + _clock("06:05:13")) * 1000),
                "configRuleInvokedTime": _iso_ms((d0 + _clock("06:05:12")) * 1000),
                "annotation": None,
                "resultToken": None,
            },
            "notificationCreationTime": _iso_ms(t * 1000 + 87),
            "messageType": "ComplianceChangeNotification",
            "recordVersion": "1.0",
        }
        key = "sqs-notifications/config-compliance-change-restricted-ssh.json"
        self.objects[key] = self._sns(
            t,
            f"[AWS Config:{REGION}] AWS::EC2::SecurityGroup {bastion} is "
            f"NON_COMPLIANT with restricted-ssh in Account {PROD}",
            compliance_message,
        )
        self.notifications.append(key)


# --- helpers -------------------------------------------------------------------------------------


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789abcdef", k=n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def _upper(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_uppercase + "234567", k=n))


def _lower(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=n))


def _clock(hhmmss: str) -> int:
    parts = [int(p) for p in hhmmss.split(":")] + [0]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _stamp(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _epoch(iso: str) -> int:
    return calendar.timegm(dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").timetuple())


def _iam_date(t: int) -> str:
    # IAM answers with a human date in its responseElements, not ISO 8601.
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return f"{d:%b} {d.day}, {d.year}, {d.hour % 12 or 12}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}"


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header keep the bytes identical from run to run.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()
