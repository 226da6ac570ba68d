"""VPC Flow Logs for the demo day: prod's in the default v2 format in 5-minute files, dev's in a
custom v5 format hourly, with the brute-force, port-scan and reject-flood traffic among the routine
flows, and each source labeled for the flow-log detections."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from connector.demo.actors import (
    BOB_IP,
    BRUTE_FORCE_RDP,
    BRUTE_FORCE_SSH,
    DEV,
    FLOOD_SOURCE,
    HOURLY_LOAD,
    INTERNET_SERVICES,
    MONITOR_IP,
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
from connector.demo.labels import (
    INBOUND_FROM_UNEXPECTED_COUNTRY,
    PORT_SCAN,
    REJECT_FLOOD,
    SSH_RDP_BRUTE_FORCE,
    LabelRecorder,
)
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
    """Prod's flow log uses the default v2 format in 5-minute files; dev's a custom v5 format, hourly.
    The flows added for the detections' labels alone draw from the labels' generator."""

    def __init__(self, rng: random.Random, estate: Estate, day: dt.date, day0: int, labels: LabelRecorder) -> None:
        self.rng = rng
        self.labels = labels
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
        self.planted_flows = FlowRecords(labels.rng)

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
        # Once let in, its SSH sessions are accepted connections from a country outside the allow-list.
        self.labels.expect(BRUTE_FORCE_SSH[1][0], INBOUND_FROM_UNEXPECTED_COUNTRY)
        jump = e.enis["dev-jump"]
        self._brute_force(dev_windows, 3600, BRUTE_FORCE_RDP[0][0], jump, 3389, "08:40", 100, 5, None)
        self._brute_force(dev_windows, 3600, BRUTE_FORCE_RDP[1][0], jump, 3389, "19:15", 70, 6, None)
        for src, _ in BRUTE_FORCE_SSH + BRUTE_FORCE_RDP:
            self.labels.expect(src, SSH_RDP_BRUTE_FORCE)
            # Hundreds of rejects, but a handful a minute and to one port.
            self.labels.benign(src, REJECT_FLOOD, PORT_SCAN)
        self._port_scan(prod_windows, alb, "06:12", 25)
        self.labels.expect(PORT_SCANNER[0], PORT_SCAN)
        # About 26 rejects a minute; one probe each of SSH and RDP; accepted on 80 and 443 only.
        self.labels.benign(PORT_SCANNER[0], REJECT_FLOOD, SSH_RDP_BRUTE_FORCE, INBOUND_FROM_UNEXPECTED_COUNTRY)

        self._reject_flood(prod_windows, bastion, 23, "16:21")
        self._health_check(prod_windows, e.enis["app-1"], "12:00:10")
        self._mistyped_ssh(dev_windows, jump, "10:14:27")
        self._debugging_session(prod_windows, bastion, "14:05")

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
            self.labels.benign(OFFICE_IP, INBOUND_FROM_UNEXPECTED_COUNTRY)  # SSH accepted, from the US
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

    # What follows is added for the detections' labels alone and draws from the labels' generator.

    def _reject_flood(self, windows: dict[int, list[dict[str, str]]], eni: Eni, port: int, minute: str) -> None:
        """150-180 SYNs to one closed port, all within one minute: a flood, but no port scan."""
        r, src = self.labels.rng, FLOOD_SOURCE[0]
        t0 = self.day0 + since_midnight(minute)
        w = (t0 - self.day0) // 300 * 300
        for _ in range(150 + r.randint(0, 30)):
            s = t0 + r.randrange(60)
            sport = self.planted_flows.ephemeral_port()
            windows[w].append(
                self.planted_flows.record(eni, src, eni.ip, sport, port, 6, 1, 40, s, s, "REJECT", "ingress", 2)
            )
        self.labels.expect(src, REJECT_FLOOD)
        self.labels.benign(src, PORT_SCAN)

    def _health_check(self, windows: dict[int, list[dict[str, str]]], eni: Eni, begin: str) -> None:
        """The monitoring host inside the VPC probes 28 ports of `eni`, which its security
        group rejects, within five minutes: a scan from a private address, which is no alert."""
        r, e = self.labels.rng, self.estate
        subnet_id, vpc, _, az, az_id = e.subnets["prod-app-a"]
        monitor = Eni(
            "eni-" + random_hex(r, 17), MONITOR_IP, PROD, vpc, subnet_id, az, az_id, "i-" + random_hex(r, 17), "monitor"
        )
        # Metrics exporters on 9100-9119 and the usual service ports.
        ports = (*range(9100, 9120), 2375, 3306, 5432, 6379, 8080, 8443, 9200, 27017)
        t0 = self.day0 + since_midnight(begin)
        w = (t0 - self.day0) // 300 * 300
        for i, port in enumerate(ports):
            s = t0 + i * 8
            sport = self.planted_flows.ephemeral_port()
            windows[w].append(
                self.planted_flows.record(
                    monitor, MONITOR_IP, eni.ip, sport, port, 6, 1, 60, s, s, "ACCEPT", "egress", 2, path="1"
                )
            )
            windows[w].append(
                self.planted_flows.record(eni, MONITOR_IP, eni.ip, sport, port, 6, 1, 60, s, s, "REJECT", "ingress", 2)
            )
        self.labels.benign(MONITOR_IP, PORT_SCAN)

    def _mistyped_ssh(self, windows: dict[int, list[dict[str, str]]], eni: Eni, at: str) -> None:
        """An administrator tries SSH on the Windows jump host, which takes RDP only: one reject."""
        s = self.day0 + since_midnight(at)
        w = (s - self.day0) // 3600 * 3600
        sport = self.planted_flows.ephemeral_port()
        windows[w].append(
            self.planted_flows.record(eni, OFFICE_IP, eni.ip, sport, 22, 6, 1, 60, s, s, "REJECT", "ingress", 2)
        )
        self.labels.benign(OFFICE_IP, SSH_RDP_BRUTE_FORCE)

    def _debugging_session(self, windows: dict[int, list[dict[str, str]]], eni: Eni, window: str) -> None:
        """bob, who opened SSH to the world at 14:03, connects from Germany, an allowed country."""
        w = since_midnight(window)
        self.planted_flows.inbound(windows[w], eni, BOB_IP, 22, self.day0 + w, 300, 600)
        self.labels.benign(BOB_IP, INBOUND_FROM_UNEXPECTED_COUNTRY)


# --- CloudTrail ----------------------------------------------------------------------------------
