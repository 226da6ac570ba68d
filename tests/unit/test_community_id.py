"""Community ID v1 against the specification's published vectors, and its symmetry."""

from __future__ import annotations

import ipaddress

import pytest

from connector.enrich.community_id import community_id


def cid(src: str, dst: str, proto: int, sport: int, dport: int, seed: int = 0) -> str:
    return community_id(ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed, proto, sport, dport,
                        seed)


# Vectors from the Community ID spec's baselines (pycommunityid tests, Elasticsearch CommunityIdProcessorTests).
VECTORS = [
    (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    (1, "192.168.0.89", "192.168.0.1", 20, 1, "1:tz/fHIDUHs19NkixVVoOZywde+I="),
    (132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    (58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
    (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
]


@pytest.mark.parametrize(("proto", "src", "dst", "sport", "dport", "expected"), VECTORS)
def test_published_vector(proto, src, dst, sport, dport, expected):
    assert cid(src, dst, proto, sport, dport) == expected


@pytest.mark.parametrize(("proto", "src", "dst", "sport", "dport", "expected"),
                         [v for v in VECTORS if v[0] in (6, 17, 132)])
def test_swapping_direction_gives_the_same_id(proto, src, dst, sport, dport, expected):
    assert cid(dst, src, proto, dport, sport) == expected


def test_icmp_echo_reply_has_the_same_id_as_its_request():
    assert cid("192.168.0.1", "192.168.0.89", 1, 0, 8) == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="


def test_icmp_message_without_counterpart_is_one_way():
    assert cid("192.168.0.1", "192.168.0.89", 1, 20, 1) != cid("192.168.0.89", "192.168.0.1", 1, 20, 1)


def test_seed_changes_the_id_as_published():
    assert cid("192.168.1.52", "8.8.8.8", 17, 54585, 53, seed=1) == "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="
