"""The records one connection leaves in a VPC flow log: each direction, on every interface it
crosses, with the fields of both the default and the custom format filled in."""

from __future__ import annotations

import random

from connector.demo.actors import DEV_APP_V6, REGION
from connector.demo.resources import Eni


class FlowRecords:
    """Builds flow log records for the connection shapes of the estate (inbound, east-west, NAT)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def record(
        self,
        eni: Eni,
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
        """One record with every field of both formats; `path` (traffic-path) counts only on egress."""
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

    def status_record(self, eni: Eni, start: int, end: int, status: str) -> dict[str, str]:
        """A NODATA or SKIPDATA record for `eni` over one capture window."""
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

    def ephemeral_port(self) -> int:
        """A client port from the Linux range most of the time, else from the IANA dynamic range."""
        return self.rng.randint(32768, 60999) if self.rng.random() < 0.7 else self.rng.randint(49152, 65535)

    def inbound(
        self,
        out: list[dict[str, str]],
        eni: Eni,
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
        sport = self.ephemeral_port()
        req_p = r.randint(6, 30)
        resp_p = r.randint(8, 60)
        here = local or eni.ip
        out.append(
            self.record(
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
            self.record(
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

    def internal(self, out: list[dict[str, str]], a: Eni, b: Eni, dport: int, w0: int, width: int, size: int) -> None:
        """East-west TCP: both interfaces log both directions of the flow."""
        r = self.rng
        s, t = self._span(w0, width, 120)
        sport = self.ephemeral_port()
        req_p, resp_p = r.randint(4, 40), r.randint(4, 80)
        req_b, resp_b = req_p * r.randint(70, 400), resp_p * r.randint(100, size)
        for eni in (a, b):
            out.append(
                self.record(
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
                self.record(
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

    def outbound(
        self,
        out: list[dict[str, str]],
        eni: Eni,
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
        sport = self.ephemeral_port()
        if proto == 17:
            req_p, resp_p, req_b, resp_b, flags = 1, 1, r.randint(60, 90), r.randint(90, 300), 0
        else:
            req_p, resp_p = r.randint(5, 25), r.randint(5, 120)
            req_b, resp_b, flags = req_p * r.randint(80, 300), resp_p * r.randint(300, 1400), 3
        out.append(
            self.record(
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
            self.record(
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

    def ping(self, out: list[dict[str, str]], a: Eni, b: Eni, w0: int, width: int) -> None:
        """An ICMP echo from `a` to `b`, logged on `a`'s interface."""
        s, t = self._span(w0, width, 4)
        n = self.rng.randint(3, 5)
        out.append(self.record(a, a.ip, b.ip, 0, 0, 1, n, n * 84, s, t, "ACCEPT", "egress", 0, path="1"))
        out.append(self.record(a, b.ip, a.ip, 0, 0, 1, n, n * 84, s, t, "ACCEPT", "ingress", 0))

    def via_nat(self, out: list[dict[str, str]], app: Eni, nat: Eni, dst: str, w0: int, width: int) -> None:
        """Internet egress through the NAT gateway: the NAT interface keeps the original packet addresses."""
        r = self.rng
        s, t = self._span(w0, width, 40)
        sport, nat_port = self.ephemeral_port(), r.randint(1024, 65535)
        req_p, resp_p = r.randint(5, 20), r.randint(6, 200)
        req_b, resp_b = req_p * r.randint(80, 300), resp_p * r.randint(500, 1400)
        out.append(self.record(app, app.ip, dst, sport, 443, 6, req_p, req_b, s, t, "ACCEPT", "egress", 3, path="1"))
        out.append(self.record(app, dst, app.ip, 443, sport, 6, resp_p, resp_b, s, t, "ACCEPT", "ingress", 19))
        out.append(
            self.record(nat, app.ip, nat.ip, sport, 443, 6, req_p, req_b, s, t, "ACCEPT", "ingress", 3, pkt_dst=dst)
        )
        out.append(self.record(nat, nat.ip, dst, nat_port, 443, 6, req_p, req_b, s, t, "ACCEPT", "egress", 3, path="8"))
        out.append(
            self.record(
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
            self.record(
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
