"""Community ID v1 flow hashes, so a flow can be pivoted on across Zeek, Suricata and Elastic."""

from __future__ import annotations

import hashlib
import struct
from binascii import b2a_base64

_PORT_PAIR = struct.Struct(">HH").pack
_SHA1 = hashlib.sha1
_PROTOCOLS_WITH_PORTS = frozenset((6, 17, 132))  # tcp, udp, sctp
_ICMP = 1
_ICMP6 = 58
# Request/reply pairs: a message with a counterpart is ordered like a two-way flow.
_ICMP4_COUNTERPART = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17, 10: 9, 9: 10}
_ICMP6_COUNTERPART = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130,
                      144: 145, 145: 144}
# "protocol, padding" bytes, precomputed: this runs once per flow record.
_PROTO_PAD = [bytes((p, 0)) for p in range(256)]
_SEED0 = b"\x00\x00"


def community_id(src: bytes, dst: bytes, proto: int, sport: int, dport: int, seed: int = 0) -> str:
    """Return the ``1:<base64>`` Community ID of a flow given packed addresses and ports.

    For ICMP the ports carry type and code, as the specification says.
    """
    if proto in _PROTOCOLS_WITH_PORTS:
        # Mixed families (a NAT64 flow) order the shorter address first, as Elastic's processor does.
        same_family = len(src) == len(dst)
        swap = (src > dst or (src == dst and sport > dport)) if same_family else len(src) > len(dst)
        if swap:
            src, dst, sport, dport = dst, src, dport, sport
        data = (_SEED0 if seed == 0 else seed.to_bytes(2, "big")) + src + dst + _PROTO_PAD[proto] + \
            _PORT_PAIR(sport, dport)
        return "1:" + b2a_base64(_SHA1(data).digest(), newline=False).decode("ascii")
    return _other_protocols(src, dst, proto, sport, dport, seed)


def _other_protocols(src: bytes, dst: bytes, proto: int, sport: int, dport: int, seed: int) -> str:
    one_way = False
    has_ports = proto in (_ICMP, _ICMP6)
    if has_ports:
        table = _ICMP4_COUNTERPART if proto == _ICMP else _ICMP6_COUNTERPART
        counterpart = table.get(sport)
        if counterpart is None:
            one_way = True
        else:
            dport = counterpart
    if not one_way:
        swap = len(src) > len(dst) if len(src) != len(dst) else src > dst or (src == dst and sport > dport)
        if swap:
            src, dst, sport, dport = dst, src, dport, sport
    data = seed.to_bytes(2, "big") + src + dst + _PROTO_PAD[proto & 0xFF]
    if has_ports:
        data += _PORT_PAIR(sport, dport)
    return "1:" + b2a_base64(_SHA1(data).digest(), newline=False).decode("ascii")
