"""Community ID v1 flow hashes, so a flow can be pivoted on across Zeek, Suricata and Elastic."""

from __future__ import annotations

import base64
import hashlib
import struct

_PORT_PAIR = struct.Struct(">HH")
_PROTOCOLS_WITH_PORTS = frozenset((6, 17, 132))  # tcp, udp, sctp
_ICMP = 1
_ICMP6 = 58
# Request/reply pairs: a message with a counterpart is ordered like a two-way flow.
_ICMP4_COUNTERPART = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17, 10: 9, 9: 10}
_ICMP6_COUNTERPART = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130,
                      144: 145, 145: 144}


def community_id(src: bytes, dst: bytes, proto: int, sport: int, dport: int, seed: int = 0) -> str:
    """Return the ``1:<base64>`` Community ID of a flow given packed addresses and ports.

    For ICMP the ports carry type and code, as the specification says.
    """
    one_way = False
    if proto in (_ICMP, _ICMP6):
        table = _ICMP4_COUNTERPART if proto == _ICMP else _ICMP6_COUNTERPART
        counterpart = table.get(sport)
        if counterpart is None:
            one_way = True
        else:
            dport = counterpart
        has_ports = True
    else:
        has_ports = proto in _PROTOCOLS_WITH_PORTS
    if not one_way:
        # Mixed families (a NAT64 flow) order the shorter address first, as Elastic's processor does.
        swap = len(src) > len(dst) if len(src) != len(dst) else src > dst or (src == dst and sport > dport)
        if swap:
            src, dst, sport, dport = dst, src, dport, sport
    data = seed.to_bytes(2, "big") + src + dst + bytes((proto, 0))
    if has_ports:
        data += _PORT_PAIR.pack(sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode("ascii")
