"""MISP event exports: the network attributes of each event and of its objects.

Accepted shapes: ``{"Event": {...}}``, a list of those, ``{"response": [...]}`` (a REST search
for events) and ``{"response": {"Attribute": [...]}}`` (a REST search for attributes). Attribute
types used: ``ip-src``, ``ip-dst`` (an address or a CIDR), ``ip-src|port``, ``ip-dst|port``,
``domain``, ``hostname`` and ``domain|ip`` (both halves). Other types are skipped by rule.

``to_ids`` is honoured: MISP's own detection exports leave out attributes whose ``to_ids`` is
false, because analysts set it false for context that must not alert (a sandbox's resolver, a
shared hosting address, a victim's IP). An attribute without the flag counts as true, as
MISP's default for network types is. Deleted attributes are skipped too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.threat_intel.entries import Entry, FeedFormatError, Tally

_SINGLE = frozenset({"ip-src", "ip-dst", "domain", "hostname"})
_WITH_PORT = frozenset({"ip-src|port", "ip-dst|port"})
_SHAPE = 'not a MISP event export (expected {"Event": {...}}, a list of them, or {"response": [...]})'


def misp_entries(doc: Any, tally: Tally) -> Iterator[Entry]:
    """Entries of every usable network attribute in ``doc`` (decoded JSON)."""
    for event in _events(doc):
        info = event.get("info")
        label = str(event.get("uuid") or event.get("id") or "")
        attributes = list(_attributes(event.get("Attribute")))
        objects = event.get("Object")
        if isinstance(objects, list):
            for obj in objects:
                if isinstance(obj, dict):
                    attributes.extend(_attributes(obj.get("Attribute")))
        for position, attribute in enumerate(attributes, 1):
            where = f"attribute {attribute.get('uuid') or position}" + (f" of event {label}" if label else "")
            yield from _attribute_entries(attribute, info, where, tally)


def is_misp(doc: Any) -> bool:
    """The ``auto`` test."""
    if isinstance(doc, dict):
        return "Event" in doc or "response" in doc
    return isinstance(doc, list) and bool(doc) and all(isinstance(e, dict) and "Event" in e for e in doc)


def _events(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, dict) and "response" in doc:
        doc = doc["response"]
        if isinstance(doc, dict) and isinstance(doc.get("Attribute"), list):
            yield {"Attribute": doc["Attribute"]}
            return
    if isinstance(doc, dict) and isinstance(doc.get("Event"), dict):
        yield doc["Event"]
        return
    if not isinstance(doc, list):
        raise FeedFormatError(_SHAPE)
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("Event"), dict):
            raise FeedFormatError(_SHAPE)
        yield item["Event"]


def _attributes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (a for a in value if isinstance(a, dict))


def _attribute_entries(attribute: dict[str, Any], info: Any, where: str, tally: Tally) -> Iterator[Entry]:
    kind, value = attribute.get("type"), attribute.get("value")
    if not isinstance(value, str) or not isinstance(kind, str):
        tally.add_invalid(str(value), where)
        return
    if kind not in _SINGLE and kind not in _WITH_PORT and kind != "domain|ip":
        tally.add_ignored("MISP attributes of other types")
        return
    if _flag(attribute.get("deleted"), default=False):
        tally.add_ignored("deleted MISP attributes")
        return
    if not _flag(attribute.get("to_ids"), default=True):
        tally.add_ignored("MISP attributes with to_ids false")
        return
    if kind in _WITH_PORT:
        values = [value.rsplit("|", 1)[0]]
    elif kind == "domain|ip":
        values = value.split("|", 1)
    else:
        values = [value]
    description = attribute.get("comment") or info
    for item in values:
        yield Entry(item, where, description, attribute.get("first_seen"), attribute.get("last_seen"))


def _flag(flag: Any, default: bool) -> bool:
    """A MISP boolean, which exports write as ``true``, ``"1"`` or ``1`` (or leave out)."""
    if flag is None:
        return default
    if isinstance(flag, str):
        return flag.strip().lower() not in ("0", "false", "")
    return bool(flag)
