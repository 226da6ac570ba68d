"""Lookups in the index: exact addresses in any spelling, networks of every prefix length in both
families, domains and their subdomains, several feeds listing the same value."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from connector.threat_intel.index import IndicatorIndex
from connector.threat_intel.indicators import DOMAIN, IPV4, IPV6, Indicator


def ind(value: str, feed: str = "intel") -> Indicator:
    kind = DOMAIN if value[-1].isalpha() else IPV6 if ":" in value else IPV4
    return Indicator(value, kind, feed, 73)


def hits(found: list[Indicator]) -> list[tuple[str, str]]:
    return [(i.feed, i.value) for i in found]


def test_exact_ipv4_and_ipv6_in_any_spelling() -> None:
    index = IndicatorIndex([ind("198.51.100.7"), ind("2001:db8::1"), ind("192.0.2.1")])
    assert hits(index.match_ip("198.51.100.7")) == [("intel", "198.51.100.7")]
    assert hits(index.match_ip("2001:db8::1")) == [("intel", "2001:db8::1")]
    assert hits(index.match_ip("2001:DB8:0:0:0:0:0:1")) == [("intel", "2001:db8::1")]
    assert hits(index.match_ip("::ffff:192.0.2.1")) == [("intel", "192.0.2.1")]
    assert index.match_ip("198.51.100.8") == []
    assert index.match_ip("2001:db8::2") == []


def test_text_that_is_not_an_address_matches_nothing() -> None:
    index = IndicatorIndex([ind("198.51.100.7"), ind("198.51.100.0/24")])
    for text in ("", "ec2.amazonaws.com", "198.51.100.7%eth0", "198.51.100.007", "[198.51.100.7]", "-", "x" * 100):
        assert index.match_ip(text) == []
        assert index.ip_hits(text) is None


def test_ipv4_networks_of_mixed_prefix_lengths() -> None:
    index = IndicatorIndex([ind("10.0.0.0/8"), ind("10.1.0.0/16"), ind("10.1.2.0/30"), ind("172.16.5.4/32")])
    assert [i.value for i in index.match_ip("10.1.2.3")] == ["10.1.2.0/30", "10.1.0.0/16", "10.0.0.0/8"]
    assert [i.value for i in index.match_ip("10.1.2.4")] == ["10.1.0.0/16", "10.0.0.0/8"]
    assert [i.value for i in index.match_ip("10.200.0.1")] == ["10.0.0.0/8"]
    assert index.match_ip("11.0.0.1") == []
    assert [i.value for i in index.match_ip("172.16.5.4")] == ["172.16.5.4/32"]
    assert index.match_ip("172.16.5.5") == []


def test_ipv6_networks_and_families_kept_apart() -> None:
    index = IndicatorIndex([ind("2001:db8::/32"), ind("2001:db8:aa::/48"), ind("10.0.0.0/8")])
    assert [i.value for i in index.match_ip("2001:db8:aa::5")] == ["2001:db8:aa::/48", "2001:db8::/32"]
    assert [i.value for i in index.match_ip("2001:DB8:1::5")] == ["2001:db8::/32"]
    assert index.match_ip("2001:db9::1") == []
    assert index.match_ip("::a00:1") == []  # 10.0.0.1's bits in IPv6 are not 10.0.0.0/8
    assert [i.value for i in index.match_ip("::ffff:10.0.0.1")] == ["10.0.0.0/8"]


def test_every_feed_listing_an_address_is_returned_exact_first() -> None:
    index = IndicatorIndex([ind("198.51.100.7", "a"), ind("198.51.100.0/24", "b"), ind("198.51.100.7", "c")])
    assert hits(index.match_ip("198.51.100.7")) == [("a", "198.51.100.7"), ("c", "198.51.100.7"),
                                                    ("b", "198.51.100.0/24")]


def test_domains_match_themselves_and_their_subdomains_only() -> None:
    index = IndicatorIndex([ind("evil.example"), ind("c2.other.example", "b")])
    assert hits(index.match_domain("evil.example")) == [("intel", "evil.example")]
    assert hits(index.match_domain("a.b.Evil.Example.")) == [("intel", "evil.example")]
    assert index.match_domain("notevil.example") == []
    assert index.match_domain("evil.example.com") == []
    assert index.match_domain("other.example") == []
    assert hits(index.match_domain("x.c2.other.example")) == [("b", "c2.other.example")]


def test_nested_domain_indicators_most_specific_first() -> None:
    index = IndicatorIndex([ind("example.net", "broad"), ind("bad.example.net", "narrow")])
    assert hits(index.match_domain("www.bad.example.net")) == [("narrow", "bad.example.net"),
                                                                ("broad", "example.net")]


def test_counts_and_what_the_index_holds() -> None:
    index = IndicatorIndex([ind("198.51.100.7"), ind("10.0.0.0/8"), ind("2001:db8::/32"), ind("evil.example")])
    assert (index.addresses, index.networks, index.domains) == (1, 2, 1)
    assert index.has_addresses and index.has_domains
    only_domains = IndicatorIndex([ind("evil.example")])
    assert not only_domains.has_addresses
    assert only_domains.match_ip("198.51.100.7") == []


def test_answers_stay_right_when_the_cache_recycles() -> None:
    index = IndicatorIndex([ind("198.51.100.7"), ind("10.0.0.0/8")], max_cached=4)
    for n in range(50):
        assert index.match_ip(f"192.0.2.{n}") == []
        assert [i.value for i in index.match_ip("198.51.100.7")] == ["198.51.100.7"]
        assert [i.value for i in index.match_ip(f"10.0.0.{n}")] == ["10.0.0.0/8"]


def test_network_edges_adjacent_and_overlapping() -> None:
    index = IndicatorIndex([ind("10.0.0.0/30"), ind("10.0.0.4/30"), ind("10.0.0.0/29", "wide"), ind("10.0.1.0/24")])
    assert [i.value for i in index.match_ip("10.0.0.7")] == ["10.0.0.4/30", "10.0.0.0/29"]
    assert index.match_ip("10.0.0.8") == []
    assert index.match_ip("9.255.255.255") == []
    assert [i.value for i in index.match_ip("10.0.1.255")] == ["10.0.1.0/24"]
    assert index.match_ip("10.0.2.0") == []


@given(networks=st.lists(st.one_of(
    st.tuples(st.ip_addresses(v=4), st.integers(1, 32)), st.tuples(st.ip_addresses(v=6), st.integers(1, 128))),
    min_size=1, max_size=12),
    addresses=st.lists(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), max_size=20))
def test_property_network_lookups_agree_with_ipaddress(
        networks: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]],
        addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> None:
    nets = {ipaddress.ip_network(f"{address}/{bits}", strict=False) for address, bits in networks}
    index = IndicatorIndex([ind(str(net)) for net in nets if net.prefixlen < net.max_prefixlen])
    probes = addresses + [net.network_address for net in nets] + [net.broadcast_address for net in nets]
    for address in probes:
        # An IPv4-mapped IPv6 address is its IPv4 address, as flow logs of dual-stack hosts mean it.
        seen_as = address.ipv4_mapped if address.version == 6 and address.ipv4_mapped else address
        expected = {str(net) for net in nets if net.prefixlen < net.max_prefixlen and seen_as in net}
        assert {i.value for i in index.match_ip(str(address))} == expected, address
