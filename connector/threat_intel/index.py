"""All feeds' indicators arranged for lookups that are nearly free when nothing matches.

- Addresses: one dict keyed by the canonical address text, so the text a document carries (flow
  logs and CloudTrail write canonical forms) is one dict get; other spellings are made canonical
  once and the answer cached.
- Networks: per family, one dict per prefix length present, keyed by the integer network value;
  an address is masked once per distinct prefix length (a few dozen at most), most specific
  first. A /32 or /128 is an address and sits in the address dict.
- Domains: a dict of names; a host matches an indicator for itself or for any parent domain
  (``evil.example`` matches ``a.b.evil.example``), as blocklists of domains mean it.

Answers per address text and per host name are cached in bounded dicts (cleared when full, as
``connector.enrich.addresses`` does), so a flow log repeating a few thousand addresses pays the
parsing and masking once per address.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable

from connector.threat_intel.indicators import DOMAIN, Indicator, host_name

_ADDRESS_CHARS = "0123456789abcdefABCDEF.:"
_NONE: tuple[Indicator, ...] = ()


class IndicatorIndex:
    """Exact addresses, networks and domains of many feeds; every lookup returns every feed's listing."""

    def __init__(self, indicators: Iterable[Indicator], max_cached: int = 131_072) -> None:
        exact: dict[str, list[Indicator]] = {}
        nets: dict[int, dict[int, dict[int, list[Indicator]]]] = {4: {}, 6: {}}
        domains: dict[str, list[Indicator]] = {}
        for indicator in indicators:
            if indicator.type == DOMAIN:
                domains.setdefault(indicator.value, []).append(indicator)
            elif indicator.is_network:
                network = ipaddress.ip_network(indicator.value)
                by_length = nets[network.version].setdefault(network.prefixlen, {})
                by_length.setdefault(int(network.network_address), []).append(indicator)
            else:
                exact.setdefault(indicator.value, []).append(indicator)
        self._exact = {key: tuple(found) for key, found in exact.items()}
        self._domains = {key: tuple(found) for key, found in domains.items()}
        # Per family: (mask, table) most specific first.
        self._nets: dict[int, list[tuple[int, dict[int, tuple[Indicator, ...]]]]] = {
            version: [(((1 << bits) - 1) << (width - bits), {k: tuple(v) for k, v in tables[bits].items()})
                      for bits in sorted(tables, reverse=True)]
            for version, tables, width in ((4, nets[4], 32), (6, nets[6], 128))
        }
        # Per family, the networks merged into sorted disjoint ranges: one bisect tells an address
        # inside no network (the usual answer) without a probe per prefix length.
        self._ranges = {version: _merged(per, 32 if version == 4 else 128) for version, per in self._nets.items()}
        self.addresses = len(self._exact)
        self.networks = sum(len(table) for per in self._nets.values() for _, table in per)
        self.domains = len(self._domains)
        self._max = max_cached
        self._ip_cache: dict[str, tuple[Indicator, ...] | None] = {}
        self._host_cache: dict[str, tuple[Indicator, ...]] = {}

    @property
    def has_addresses(self) -> bool:
        """Whether any address or network is listed (else address fields need no look at all)."""
        return bool(self.addresses or self.networks)

    @property
    def has_domains(self) -> bool:
        """Whether any domain is listed."""
        return bool(self.domains)

    def match_ip(self, text: str) -> list[Indicator]:
        """Every indicator listing the address ``text`` (exact first, then networks, most specific
        first); empty when nothing does or ``text`` is not an address."""
        return list(self.ip_hits(text) or _NONE)

    def match_domain(self, host: str) -> list[Indicator]:
        """Every indicator listing ``host`` or one of its parent domains, the most specific first."""
        return list(self.host_hits(host))

    def ip_hits(self, text: str) -> tuple[Indicator, ...] | None:
        """``match_ip`` as a shared tuple, or ``None`` when ``text`` is not an IP address (cached)."""
        hits = self._ip_cache.get(text, False)
        if hits is False:
            hits = self.resolve_ip(text)
            if len(self._ip_cache) >= self._max:
                self._ip_cache.clear()
            self._ip_cache[text] = hits
        return hits  # type: ignore[return-value]

    def host_hits(self, host: str) -> tuple[Indicator, ...]:
        """``match_domain`` as a shared tuple (cached)."""
        hits = self._host_cache.get(host)
        if hits is None:
            hits = self._resolve_host(host)
            if len(self._host_cache) >= self._max:
                self._host_cache.clear()
            self._host_cache[host] = hits
        return hits

    def resolve_ip(self, text: str) -> tuple[Indicator, ...] | None:
        """``ip_hits`` without the cache, for callers that keep their own answers."""
        # Only hex digits, dots and colons: no scope ids, brackets or ports (documents carry none,
        # and the byte-level pre-check relies on it).
        if not text or len(text) > 45 or text.strip(_ADDRESS_CHARS):
            return None
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
            version, canonical = 4, socket.inet_ntop(socket.AF_INET, packed)
        except OSError:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                return None
            if address.version == 6 and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            version, canonical, packed = address.version, str(address), address.packed
        found = self._exact.get(canonical, _NONE)
        per_length = self._nets[version]
        if per_length:
            value = int.from_bytes(packed, "big")
            starts, ends = self._ranges[version]
            at = bisect.bisect_right(starts, value) - 1
            if at >= 0 and value <= ends[at]:
                for mask, table in per_length:
                    hit = table.get(value & mask)
                    if hit is not None:
                        found = found + hit
        return found

    def _resolve_host(self, host: str) -> tuple[Indicator, ...]:
        if not self._domains:
            return _NONE
        name = host_name(host)
        found = _NONE
        while name:
            hit = self._domains.get(name)
            if hit is not None:
                found = found + hit
            dot = name.find(".")
            if dot < 0:
                break
            name = name[dot + 1:]
        return found


def _merged(per_length: list[tuple[int, dict[int, tuple[Indicator, ...]]]],
            width: int) -> tuple[list[int], list[int]]:
    """Sorted starts and ends of the union of the networks (first and last address as integers)."""
    every = (1 << width) - 1
    spans = sorted((start, start | (every & ~mask)) for mask, table in per_length for start in table)
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends
