"""Per-address facts computed once and cached: family, packed bytes, public or not, geo, AS.

Flow logs repeat the same few thousand addresses millions of times, so every per-address
computation (parsing, classification, two database lookups) happens once per address.
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from connector.enrich.geoip import GeoIpLookup

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressInfo(NamedTuple):
    """What the pipeline needs to know about one IP address."""

    ip: str
    family: str  # "ipv4" | "ipv6"
    packed: bytes
    public: bool
    geo: dict[str, Any] | None
    autonomous_system: dict[str, Any] | None


def is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses, the only ones that get geo fields."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_multicast or addr.is_reserved or addr.is_loopback or addr.is_link_local:
        return False
    if addr.version == 4 and addr in _CGNAT:
        return False
    return bool(addr.is_global)


class AddressBook:
    """Cache of ``AddressInfo`` by address text; bounded so a scan of the whole internet cannot grow it forever."""

    def __init__(self, geoip: GeoIpLookup | None, max_entries: int = 262_144) -> None:
        self._geoip = geoip
        self._max = max_entries
        self._cache: dict[str, AddressInfo | None] = {}
        self.get = self._cache.get  # bound for the hot path

    def lookup(self, text: str) -> AddressInfo | None:
        """Info for ``text``, or ``None`` when it is not an IP address (e.g. ``ec2.amazonaws.com``)."""
        info = self._cache.get(text, False)
        if info is not False:
            return info  # type: ignore[return-value]
        info = self._resolve(text)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[text] = info
        return info

    def _resolve(self, text: str) -> AddressInfo | None:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return None
        public = is_public(addr)
        geo = asn = None
        if public and self._geoip is not None:
            geo = self._geoip.geo(text)
            asn = self._geoip.autonomous_system(text)
        family = "ipv4" if addr.version == 4 else "ipv6"
        return AddressInfo(text, family, addr.packed, public, geo, asn)
