"""Per-address facts computed once and cached: family, packed bytes, public or not, geo, AS.

Flow logs repeat the same few thousand addresses millions of times, so every per-address
computation (parsing, classification, two database lookups) happens once per address.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from typing import NamedTuple

import orjson

from connector.enrich.geoip import GeoIpLookup

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IPv4 ranges that are not globally routable unicast (RFC 6890 and friends), as integer bounds:
# the common family is classified by one bisect instead of ipaddress's property chain.
_V4_NOT_PUBLIC = sorted(
    (int(net.network_address), int(net.broadcast_address))
    for net in map(ipaddress.IPv4Network, (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ))
)
_V4_STARTS = [start for start, _end in _V4_NOT_PUBLIC]


def _v4_public(packed: bytes) -> bool:
    value = int.from_bytes(packed, "big")
    i = bisect.bisect_right(_V4_STARTS, value) - 1
    return i < 0 or value > _V4_NOT_PUBLIC[i][1]


class AddressInfo(NamedTuple):
    """What the pipeline needs to know about one IP address.

    The geo and AS objects are kept as serialized JSON, shared by every address with the same
    answer: about 400 bytes an address instead of 1.5 KB of per-address dicts.
    """

    ip: str
    family: str  # "ipv4" | "ipv6"
    packed: bytes
    public: bool
    geo: orjson.Fragment | None  # ECS ``*.geo`` as JSON, spliced by orjson into documents
    autonomous_system: orjson.Fragment | None  # ECS ``*.as`` as JSON
    place_json: str = ""  # ',"geo":{...},"as":{...}' ready to splice after "ip" in JSON text


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

    def __init__(self, geoip: GeoIpLookup | None, max_entries: int = 131_072) -> None:
        self._geoip = geoip
        self._max = max_entries
        self._cache: dict[str, AddressInfo | None] = {}
        self.get = self._cache.get  # bound for the hot path
        # One object per distinct geo/AS answer (a city is shared by many addresses).
        self._fragments: dict[str, orjson.Fragment] = {}
        self._places: dict[str, str] = {}

    def lookup(self, text: str) -> AddressInfo | None:
        """Info for ``text``, or ``None`` when it is not an IP address (e.g. ``ec2.amazonaws.com``)."""
        info = self._cache.get(text, False)
        if info is not False:
            return info  # type: ignore[return-value]
        info = self._resolve(text)
        if len(self._cache) >= self._max:
            self._cache.clear()
            self._fragments.clear()
            self._places.clear()
        self._cache[text] = info
        return info

    def _resolve(self, text: str) -> AddressInfo | None:
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
            family, public = "ipv4", _v4_public(packed)
        except OSError:
            try:
                addr = ipaddress.ip_address(text)
            except ValueError:
                return None
            if addr.version == 4:  # a form inet_pton refuses but ipaddress reads
                return self._resolve(str(addr))
            family, packed, public = "ipv6", addr.packed, is_public(addr)
        geo = asn = None
        if public and self._geoip is not None:
            geo = self._geoip.geo(text)
            asn = self._geoip.autonomous_system(text)
        if geo is None and asn is None:
            return AddressInfo(text, family, packed, public, None, None, "")
        geo_json = orjson.dumps(geo).decode() if geo is not None else None
        as_json = orjson.dumps(asn).decode() if asn is not None else None
        place = (',"geo":' + geo_json if geo_json else "") + (',"as":' + as_json if as_json else "")
        return AddressInfo(text, family, packed, public, self._fragment(geo_json), self._fragment(as_json),
                           self._places.setdefault(place, place))

    def _fragment(self, text: str | None) -> orjson.Fragment | None:
        """The one ``Fragment`` for this JSON text."""
        if text is None:
            return None
        shared = self._fragments.get(text)
        if shared is None:
            shared = self._fragments[text] = orjson.Fragment(text)
        return shared
