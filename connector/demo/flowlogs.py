"""VPC Flow Logs for the demo day: prod's in the default v2 format in 5-minute files, dev's in a
custom v5 format hourly, with the brute-force and port-scan traffic among the routine flows."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from connector.demo.actors import (
    BRUTE_FORCE_RDP,
    BRUTE_FORCE_SSH,
    DEV,
    HOURLY_LOAD,
    INTERNET_SERVICES,
    OFFICE_IP,
    PORT_SCANNER,
    PROD,
    PROD_ALB_V6,
    REGION,
    S3_ENDPOINTS,
    WEB_CLIENTS_V4,
    WEB_CLIENTS_V6,
)
from connector.demo.aws_formats import gzip_bytes, since_midnight
from connector.demo.flow_records import FlowRecords
from connector.demo.random_ids import random_hex
from connector.demo.resources import Eni, Estate

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


class FlowLogs:
    """Prod's flow log uses the default v2 format in 5-minute files; dev's a custom v5 format, hourly."""

    def __init__(self, rng: random.Random, estate: Estate, day: dt.date, day0: int) -> None:
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
        self.flows = FlowRecords(rng)

    def generate(self) -> None:
        """Fill `objects` with the day's flow log files and count what they hold."""
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
            f"{account}_vpcflowlogs_{REGION}_{flow_log}_{stamp}_{random_hex(self.rng, 8)}.log.gz"
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
        self.objects[key] = gzip_bytes(("\n".join(lines) + "\n").encode())
        self.counts[key] = len(lines) - 1

    def _prod_window(self, out: list[dict[str, str]], w0: int, width: int) -> None:
        r, e = self.rng, self.estate.enis
        hour = (w0 - self.day0) // 3600
        load = HOURLY_LOAD[hour]
        albs, webs = (e["alb-a"], e["alb-b"]), (e["web-1"], e["web-2"], e["web-3"])
        for _ in range(int(57 * load * r.uniform(0.85, 1.15)) + 4):
            alb = r.choice(albs)
            port = 443 if r.random() < 0.85 else 80
            if r.random() < 0.06:
                self.flows.inbound(out, alb, r.choice(WEB_CLIENTS_V6), port, w0, width, 1400, local=PROD_ALB_V6)
            else:
                self.flows.inbound(out, alb, r.choice(WEB_CLIENTS_V4), port, w0, width, 1400)
            if r.random() < 0.35:
                self.flows.internal(out, alb, r.choice(webs), 443, w0, width, 1400)
        for _ in range(r.randint(3, 6)):
            app = r.choice((e["app-1"], e["app-2"], *webs))
            db, port = r.choice(((e["db-mysql"], 3306), (e["db-postgres"], 5432), (e["cache"], 6379)))
            self.flows.internal(out, app, db, port, w0, width, 900)
        for _ in range(r.randint(2, 4)):
            src = r.choice((e["app-1"], e["app-2"], e["batch"], *webs))
            self.flows.outbound(out, src, "10.0.0.2", 53, 17, w0, width, "1")
        for _ in range(r.randint(1, 3)):
            src = r.choice((e["batch"], e["app-1"], e["app-2"]))
            if r.random() < 0.5:
                self.flows.outbound(out, src, r.choice(S3_ENDPOINTS), 443, 6, w0, width, "7", "S3")
            else:
                self.flows.outbound(out, src, r.choice(INTERNET_SERVICES), 443, 6, w0, width, "8", "AMAZON")
        if 9 <= hour < 18 and r.random() < 0.25:
            self.flows.inbound(out, e["bastion"], OFFICE_IP, 22, w0, width, 600)
        if r.random() < 1 / 12:
            self.flows.ping(out, e["batch"], r.choice((e["app-1"], e["app-2"])), w0, width)
        out.append(self.flows.status_record(self.estate.idle, w0, w0 + width - 1, "NODATA"))
        if (w0 - self.day0) in (3 * 3600 + 1500, 17 * 3600 + 600):
            out.append(self.flows.status_record(e["cache"], w0, w0 + width - 1, "SKIPDATA"))

    def _dev_window(self, out: list[dict[str, str]], w0: int, width: int) -> None:
        r, e = self.rng, self.estate.enis
        load = HOURLY_LOAD[(w0 - self.day0) // 3600]
        apps, nat = (e["dev-app-1"], e["dev-app-2"]), e["dev-nat"]
        for _ in range(int(38 * load * r.uniform(0.85, 1.15)) + 3):
            self.flows.via_nat(out, r.choice(apps), nat, r.choice(INTERNET_SERVICES), w0, width)
        for _ in range(int(12 * load) + 1):
            self.flows.outbound(out, r.choice(apps), r.choice(S3_ENDPOINTS), 443, 6, w0, width, "7", "S3")
        for _ in range(int(30 * load) + 2):
            self.flows.internal(out, r.choice(apps), e["dev-db"], 5432, w0, width, 900)
        for _ in range(int(30 * load) + 2):
            self.flows.outbound(out, r.choice((*apps, e["dev-db"], e["dev-jump"])), "10.1.0.2", 53, 17, w0, width, "1")
        for _ in range(3):
            self.flows.outbound(out, e["dev-app-1"], r.choice(WEB_CLIENTS_V6[:2]), 443, 6, w0, width, "8")
        hour = (w0 - self.day0) // 3600
        if 8 <= hour < 18:
            for _ in range(2):
                self.flows.inbound(out, e["dev-jump"], OFFICE_IP, 3389, w0, width, 1400)
        self.flows.ping(out, e["dev-app-1"], e["dev-db"], w0, width)
        out.append(
            self.flows.status_record(e["dev-db"], w0, w0 + width - 1, "NODATA")
            if hour in (2, 3, 4)
            else self.flows.status_record(e["dev-jump"], w0, w0 + width - 1, "NODATA")
            if hour == 23
            else self.flows.status_record(nat, w0 + 61, w0 + 62, "SKIPDATA")
            if hour == 12
            else self.flows.status_record(e["dev-app-2"], w0, w0 + width - 1, "NODATA")
        )

    def _brute_force(
        self,
        windows: dict[int, list[dict[str, str]]],
        width: int,
        src: str,
        eni: Eni,
        port: int,
        begin: str,
        minutes: int,
        per_minute: int,
        opened: str | None,
    ) -> None:
        """One attempt per connection; rejected until `opened` (when the security group let it in)."""
        r = self.rng
        t0 = self.day0 + since_midnight(begin)
        open_at = self.day0 + since_midnight(opened) if opened else None
        for minute in range(minutes):
            for _ in range(per_minute + r.randint(-1, 1)):
                s = t0 + minute * 60 + r.randrange(60)
                w = (s - self.day0) // width * width
                end = min(s + r.randint(0, 3), self.day0 + w + width - 1)
                sport = self.flows.ephemeral_port()
                if open_at is not None and s >= open_at:
                    p = r.randint(12, 30)
                    windows[w].append(
                        self.flows.record(
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
                        self.flows.record(
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
                        self.flows.record(eni, src, eni.ip, sport, port, 6, p, p * 60, s, end, "REJECT", "ingress", 2)
                    )

    def _port_scan(self, windows: dict[int, list[dict[str, str]]], eni: Eni, begin: str, minutes: int) -> None:
        """One SYN per port; only the listener ports answer."""
        r = self.rng
        ports = sorted(set(range(1, 1025)) | {1433, 1521, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017})
        chosen = sorted(r.sample(ports, 640))
        for p in (22, 80, 443, 3389):
            if p not in chosen:
                chosen.append(p)
        r.shuffle(chosen)
        t0 = self.day0 + since_midnight(begin)
        sport = r.randint(40000, 65000)
        for i, port in enumerate(chosen):
            s = t0 + i * minutes * 60 // len(chosen)
            w = (s - self.day0) // 300 * 300
            self.scanned_ports.add(port)
            if port in (80, 443):
                windows[w].append(
                    self.flows.record(
                        eni, PORT_SCANNER[0], eni.ip, sport, port, 6, 2, 84, s, s + 1, "ACCEPT", "ingress", 6
                    )
                )
                windows[w].append(
                    self.flows.record(
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
                    self.flows.record(eni, PORT_SCANNER[0], eni.ip, sport, port, 6, 1, 44, s, s, "REJECT", "ingress", 2)
                )


# --- CloudTrail ----------------------------------------------------------------------------------
