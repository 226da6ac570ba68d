"""What an indicator is once read, and how a feed's text becomes one: every feed format hands its
values here, so an address, a network or a domain is spelled one way whatever the feed wrote."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

IPV4, IPV6, DOMAIN = "ipv4-addr", "ipv6-addr", "domain-name"  # ECS threat.*.indicator.type values

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_CONFIDENCE_WORDS = {"not specified": "Not Specified", "none": "None", "low": "Low", "med": "Medium",
                     "medium": "Medium", "high": "High"}


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of one feed. ``value`` is canonical: an address as ``ipaddress`` prints it
    (an IPv4-mapped IPv6 address as its IPv4 address), a network as ``10.0.0.0/8``, a domain in
    lower case without a trailing dot. The optional fields are what the feed said about it."""

    value: str
    type: str  # IPV4, IPV6 or DOMAIN
    feed: str
    severity: int
    description: str | None = None
    first_seen: str | None = None  # ISO 8601 UTC, as ECS dates are written
    last_seen: str | None = None
    confidence: str | None = None  # ECS scale: Not Specified, None, Low, Medium, High
    reference: str | None = None

    @property
    def is_network(self) -> bool:
        """A CIDR range rather than one address or domain."""
        return "/" in self.value


def canonical_value(text: str) -> tuple[str, str] | None:
    """``(value, type)`` for a feed's entry, or ``None`` when it is not an IP address, a network
    or a domain name. Accepts the spellings feeds use: ``[.]`` defanging, ``*.`` wildcards,
    ``[v6]`` brackets, an ``address:port`` or ``[v6]:port`` suffix, a trailing dot."""
    value = text.strip()
    if not value or len(value) > 300:
        return None
    if "[" in value:
        value = value.replace("[.]", ".").replace("[:]", ":")
        if value.startswith("["):  # [2001:db8::1] or [2001:db8::1]:443
            end = value.find("]")
            if end < 0 or (end + 1 < len(value) and not value[end + 1:].lstrip(":").isdigit()):
                return None
            value = value[1:end]
    if "/" in value:
        return _network(value)
    if "%" in value:  # a scoped address names an interface, not a host on the internet
        return None
    if value.count(":") == 1 and "." in value:  # 1.2.3.4:443
        value, _, port = value.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return _domain(value)
    return _address(address)


def _address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str]:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address), IPV4 if address.version == 4 else IPV6


def _network(value: str) -> tuple[str, str] | None:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    if network.prefixlen == 0:  # would match every address: a broken entry, not an indicator
        return None
    if network.prefixlen == network.max_prefixlen:
        return _address(network.network_address)
    return str(network), IPV4 if network.version == 4 else IPV6


def _domain(value: str) -> tuple[str, str] | None:
    name = value.lower().rstrip(".")
    if name.startswith("*."):
        name = name[2:]
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    if not all(_LABEL.match(label) for label in labels):
        return None
    return name, DOMAIN


def host_name(text: str) -> str:
    """A document's host name in the form domain indicators are stored in."""
    name = text.lower()
    return name[:-1] if name.endswith(".") else name


def iso_time(value: Any) -> str | None:
    """A feed's timestamp as ECS writes dates (``2021-01-17T07:44:46.000Z``), or ``None``.
    Takes ISO 8601 with ``T`` or a space, a bare date, and epoch seconds or milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            if seconds > 1e11:  # milliseconds
                seconds /= 1000
            moment = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str) and value.strip():
            moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ecs_confidence(value: Any) -> str | None:
    """A feed's confidence on the ECS scale. Numbers (STIX 0-100) map by STIX 2.1 Appendix A:
    0 None, 1-29 Low, 30-69 Medium, 70-100 High; words are kept when they are on the scale."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        word = _CONFIDENCE_WORDS.get(value.strip().lower())
        if word is not None:
            return word
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not 0 <= value <= 100:
        return None
    if value == 0:
        return "None"
    return "Low" if value < 30 else "Medium" if value < 70 else "High"


def text_or_none(value: Any) -> str | None:
    """A metadata value kept only when it is non-empty text."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None
